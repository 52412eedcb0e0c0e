using System.Globalization;

namespace Kaapana.Dicom.Network.Query;

/// <summary>
/// Normalized forms of DA, TM, DT and PN values used for matching. A database index that stores these forms can evaluate
/// <see cref="RangeTerm"/> bounds with plain string comparisons and <see cref="ValueTerm"/> PN values with equality.
/// Every date/time value is an interval at its precision: <see cref="TryDate"/>, <see cref="TryTime"/> and
/// <see cref="TryDateTime"/> return its first and last instant.
/// </summary>
public static class QueryValues
{
    public const string MinTime = "000000.000000";
    public const string MaxTime = "235959.999999";

    /// <summary>DA <c>YYYYMMDD</c> (also the retired <c>YYYY.MM.DD</c>) as <c>yyyyMMdd</c>.</summary>
    public static bool TryDate(string? value, out string normalized)
    {
        normalized = "";
        var s = value?.Trim(' ', '\0') ?? "";
        if (s.Length == 10 && s[4] == '.' && s[7] == '.') s = string.Concat(s.AsSpan(0, 4), s.AsSpan(5, 2), s.AsSpan(8, 2));
        if (s.Length != 8 || !DateOnly.TryParseExact(s, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)) return false;
        normalized = s;
        return true;
    }

    /// <summary>TM <c>HH[MM[SS[.F{1-6}]]]</c> (also the retired <c>HH:MM:SS</c>) as the interval it denotes, in <c>HHmmss.ffffff</c>.</summary>
    public static bool TryTime(string? value, out string lower, out string upper)
    {
        lower = upper = "";
        var s = (value?.Trim(' ', '\0') ?? "").Replace(":", "", StringComparison.Ordinal);
        int dot = s.IndexOf('.');
        var main = dot >= 0 ? s[..dot] : s;
        var frac = dot >= 0 ? s[(dot + 1)..] : null;
        if (main.Length is not (2 or 4 or 6) || !main.All(char.IsAsciiDigit)) return false;
        if (frac != null && (main.Length != 6 || frac.Length is 0 or > 6 || !frac.All(char.IsAsciiDigit))) return false;
        int h = Two(main, 0), m = main.Length >= 4 ? Two(main, 2) : -1, sec = main.Length == 6 ? Two(main, 4) : -1;
        if (h > 23 || m > 59 || sec > 60) return false;
        if (sec == 60) sec = 59; // leap second
        lower = FormatTime(h, m < 0 ? 0 : m, sec < 0 ? 0 : sec, (frac ?? "").PadRight(6, '0'));
        upper = FormatTime(h, m < 0 ? 59 : m, sec < 0 ? 59 : sec, (frac ?? "").PadRight(6, '9'));
        return true;
    }

    /// <summary>
    /// DT <c>YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&amp;ZZXX]</c> as the interval it denotes, in <c>yyyyMMddHHmmss.ffffff</c>.
    /// With an offset (in the value, else <paramref name="defaultOffset"/>, e.g. from Timezone Offset From UTC) the bounds are in UTC;
    /// without one they are left in the value's own (unknown) time zone.
    /// </summary>
    public static bool TryDateTime(string? value, TimeSpan? defaultOffset, out string lower, out string upper)
    {
        lower = upper = "";
        var s = value?.Trim(' ', '\0') ?? "";
        TimeSpan? offset = defaultOffset;
        int z = s.LastIndexOfAny(['+', '-']);
        if (z >= 4)
        {
            if (!TryOffset(s[z..], out var o)) return false;
            offset = o;
            s = s[..z];
        }
        int dot = s.IndexOf('.');
        var main = dot >= 0 ? s[..dot] : s;
        var frac = dot >= 0 ? s[(dot + 1)..] : null;
        if (main.Length is < 4 or > 14 || main.Length % 2 == 1 || !main.All(char.IsAsciiDigit)) return false;
        if (frac != null && (main.Length != 14 || frac.Length is 0 or > 6 || !frac.All(char.IsAsciiDigit))) return false;
        int year = int.Parse(main.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture);
        int? month = main.Length >= 6 ? Two(main, 4) : null, day = main.Length >= 8 ? Two(main, 6) : null;
        int? hour = main.Length >= 10 ? Two(main, 8) : null, minute = main.Length >= 12 ? Two(main, 10) : null;
        int? second = main.Length >= 14 ? Two(main, 12) : null;
        if (year < 1 || month is < 1 or > 12 || hour > 23 || minute > 59 || second > 60) return false;
        if (second == 60) second = 59;
        int lastMonth = month ?? 12;
        if (day is { } d && (d < 1 || d > DateTime.DaysInMonth(year, month!.Value))) return false;
        var lo = new DateTime(year, month ?? 1, day ?? 1, hour ?? 0, minute ?? 0, second ?? 0, DateTimeKind.Unspecified)
            .AddTicks(FractionTicks((frac ?? "").PadRight(6, '0')));
        var hi = new DateTime(year, lastMonth, day ?? DateTime.DaysInMonth(year, lastMonth), hour ?? 23, minute ?? 59, second ?? 59, DateTimeKind.Unspecified)
            .AddTicks(FractionTicks((frac ?? "").PadRight(6, '9')));
        if (offset is { } off)
        {
            lo = Shift(lo, -off);
            hi = Shift(hi, -off);
        }
        lower = FormatDateTime(lo);
        upper = FormatDateTime(hi);
        return true;
    }

    /// <summary>Timezone Offset From UTC (0008,0201) or a DT suffix: <c>&amp;ZZXX</c>.</summary>
    public static bool TryOffset(string? text, out TimeSpan offset)
    {
        offset = default;
        var s = text?.Trim(' ', '\0') ?? "";
        if (s.Length != 5 || s[0] is not ('+' or '-') || !s.AsSpan(1).ToString().All(char.IsAsciiDigit)) return false;
        int h = Two(s, 1), m = Two(s, 3);
        if (h > 14 || m > 59) return false;
        offset = new TimeSpan(h, m, 0) * (s[0] == '-' ? -1 : 1);
        return true;
    }

    /// <summary>
    /// A PN value in the form matching compares: trailing empty components and component groups dropped
    /// (<c>Doe^John^^^</c> → <c>Doe^John</c>, <c>Doe^John==</c> → <c>Doe^John</c>), surrounding spaces of each component removed.
    /// </summary>
    public static string NormalizePersonName(string value)
    {
        var groups = value.Trim(' ', '\0').Split('=');
        for (int g = 0; g < groups.Length; g++)
        {
            var comps = groups[g].Split('^');
            int n = comps.Length;
            for (int c = 0; c < n; c++) comps[c] = comps[c].Trim(' ');
            while (n > 0 && comps[n - 1].Length == 0) n--;
            groups[g] = string.Join('^', comps, 0, n);
        }
        int k = groups.Length;
        while (k > 0 && groups[k - 1].Length == 0) k--;
        return string.Join('=', groups, 0, k);
    }

    internal static string Combine(string date, string time) => date + time;

    private static int Two(string s, int at) => (s[at] - '0') * 10 + (s[at + 1] - '0');

    private static string FormatTime(int h, int m, int s, string frac6) =>
        string.Create(CultureInfo.InvariantCulture, $"{h:D2}{m:D2}{s:D2}.{frac6}");

    private static long FractionTicks(string frac6) => long.Parse(frac6, NumberStyles.None, CultureInfo.InvariantCulture) * 10;

    private static DateTime Shift(DateTime t, TimeSpan by)
    {
        long ticks = t.Ticks + by.Ticks;
        return new DateTime(Math.Clamp(ticks, DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), DateTimeKind.Unspecified);
    }

    private static string FormatDateTime(DateTime t) => t.ToString("yyyyMMddHHmmss.ffffff", CultureInfo.InvariantCulture);
}
