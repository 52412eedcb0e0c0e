using System.Globalization;

namespace Kaapana.Web.Components;

/// <summary>Display forms shared by the pages.</summary>
public static class Format
{
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        return u == 0 ? $"{bytes} B" : v.ToString(v < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + units[u];
    }

    /// <summary>DICOM DA (YYYYMMDD) as YYYY-MM-DD; other text as it is.</summary>
    public static string Date(string? da) =>
        da is { Length: 8 } && da.All(char.IsAsciiDigit) ? $"{da[..4]}-{da[4..6]}-{da[6..]}" : da ?? "";

    /// <summary>Person Name with its component separators as spaces.</summary>
    public static string Name(string? pn) => string.Join(' ', (pn ?? "").Split('^', '=').Where(s => s.Length > 0));
}
