using System.Globalization;

namespace Kaapana.Dicom;

/// <summary>Parses DA, TM and DT values, including the partial precision the standard allows.</summary>
public static class DicomDateTimeParser
{
    public static bool TryParseDate(ReadOnlySpan<char> s, out DateOnly date)
    {
        date = default;
        s = s.Trim();
        // ACR-NEMA "YYYY.MM.DD" still occurs in old archives.
        if (s.Length == 10 && s[4] == '.' && s[7] == '.')
            return DateOnly.TryParseExact(s, "yyyy.MM.dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
        return s.Length == 8 && DateOnly.TryParseExact(s, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    /// <summary>HH, HHMM, HHMMSS, HHMMSS.F{1-6}; also the retired HH:MM:SS form.</summary>
    public static bool TryParseTime(ReadOnlySpan<char> s, out TimeOnly time)
    {
        time = default;
        var trimmed = s.Trim();
        if (trimmed.Length > 32) return false;
        Span<char> buf = stackalloc char[32];
        int n = 0;
        foreach (var c in trimmed) if (c != ':') buf[n++] = c;
        ReadOnlySpan<char> t = buf[..n];
        return TryParseCompactTime(t, out time);
    }

    private static bool TryParseCompactTime(ReadOnlySpan<char> s, out TimeOnly time)
    {
        time = default;
        if (s.Length < 2) return false;
        int frac = s.IndexOf('.');
        var main = frac >= 0 ? s[..frac] : s;
        if (main.Length is not (2 or 4 or 6)) return false;
        if (!int.TryParse(main[..2], NumberStyles.None, CultureInfo.InvariantCulture, out var h)) return false;
        int m = 0, sec = 0;
        if (main.Length >= 4 && !int.TryParse(main[2..4], NumberStyles.None, CultureInfo.InvariantCulture, out m)) return false;
        if (main.Length == 6 && !int.TryParse(main[4..6], NumberStyles.None, CultureInfo.InvariantCulture, out sec)) return false;
        long ticks = 0;
        if (frac >= 0 && !TryParseFraction(s[(frac + 1)..], out ticks)) return false;
        if (sec == 60) sec = 59; // leap second is legal in DICOM, not in TimeOnly
        if (h > 23 || m > 59 || sec > 59) return false;
        time = new TimeOnly(h, m, sec).Add(TimeSpan.FromTicks(ticks));
        return true;
    }

    /// <summary>YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&amp;ZZXX]. Missing parts take their lowest value.</summary>
    public static bool TryParseDateTime(ReadOnlySpan<char> s, out DateTimeOffset value, out bool hasOffset)
    {
        value = default;
        hasOffset = false;
        s = s.Trim();
        var offset = TimeSpan.Zero;
        int z = s.LastIndexOfAny('+', '-');
        if (z >= 4)
        {
            var o = s[(z + 1)..];
            if (o.Length != 4 || !int.TryParse(o[..2], NumberStyles.None, CultureInfo.InvariantCulture, out var oh)
                || !int.TryParse(o[2..], NumberStyles.None, CultureInfo.InvariantCulture, out var om)
                || oh > 14 || om > 59) return false; // DateTimeOffset rejects offsets beyond ±14 h
            offset = new TimeSpan(oh, om, 0) * (s[z] == '-' ? -1 : 1);
            hasOffset = true;
            s = s[..z];
        }
        int frac = s.IndexOf('.');
        var main = frac >= 0 ? s[..frac] : s;
        if (main.Length is < 4 or > 14 || main.Length % 2 == 1) return false;
        foreach (var c in main) if (!char.IsAsciiDigit(c)) return false;
        int year = int.Parse(main[..4], NumberStyles.None, CultureInfo.InvariantCulture);
        int month = Part(main, 4, 1), day = Part(main, 6, 1), hour = Part(main, 8, 0), minute = Part(main, 10, 0), second = Part(main, 12, 0);
        long ticks = 0;
        if (frac >= 0 && !TryParseFraction(s[(frac + 1)..], out ticks)) return false;
        if (second == 60) second = 59;
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
            return false;
        value = new DateTimeOffset(year, month, day, hour, minute, second, offset).AddTicks(ticks);
        return true;
    }

    /// <summary>Up to six fractional-second digits, as ticks.</summary>
    private static bool TryParseFraction(ReadOnlySpan<char> f, out long ticks)
    {
        ticks = 0;
        if (f.Length is 0 or > 6 || !int.TryParse(f, NumberStyles.None, CultureInfo.InvariantCulture, out var fv)) return false;
        for (int i = f.Length; i < 7; i++) fv *= 10;
        ticks = fv;
        return true;
    }

    private static int Part(ReadOnlySpan<char> main, int at, int dflt) =>
        main.Length >= at + 2 ? int.Parse(main.Slice(at, 2), NumberStyles.None, CultureInfo.InvariantCulture) : dflt;

    public static string FormatDate(DateOnly d) => d.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static string FormatTime(TimeOnly t) =>
        t.Ticks % TimeSpan.TicksPerSecond == 0
            ? t.ToString("HHmmss", CultureInfo.InvariantCulture)
            : t.ToString("HHmmss.ffffff", CultureInfo.InvariantCulture);

    public static string FormatDateTime(DateTime dt) =>
        dt.Ticks % TimeSpan.TicksPerSecond == 0
            ? dt.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)
            : dt.ToString("yyyyMMddHHmmss.ffffff", CultureInfo.InvariantCulture);

    public static string FormatDateTime(DateTimeOffset dt)
    {
        var o = dt.Offset;
        var sign = o < TimeSpan.Zero ? '-' : '+';
        o = o.Duration();
        return FormatDateTime(dt.DateTime) + $"{sign}{o.Hours:D2}{o.Minutes:D2}";
    }
}
