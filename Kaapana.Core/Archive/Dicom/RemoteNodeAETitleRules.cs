namespace Kaapana.Core.Archive.Dicom;

/// <summary>AE title rules of PS3.5 6.2 (VR AE): at most 16 characters, no backslash, no control characters, not only spaces.</summary>
public static class AETitleRules
{
    public const int MaxLength = 16;

    /// <returns>Null when <paramref name="aeTitle"/> (trimmed) is a valid AE title, else why not.</returns>
    public static string? Check(string? aeTitle)
    {
        var ae = aeTitle?.Trim();
        if (string.IsNullOrEmpty(ae)) return "An AE title is required.";
        if (ae.Length > MaxLength) return $"AE title '{ae}' is longer than {MaxLength} characters.";
        if (ae.Contains('\\')) return "An AE title cannot contain a backslash.";
        if (ae.Any(c => char.IsControl(c) || c > '~')) return "An AE title may hold only printable ASCII characters.";
        return null;
    }
}
