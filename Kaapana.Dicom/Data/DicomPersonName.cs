namespace Kaapana.Dicom;

/// <summary>One component group of a person name: Family^Given^Middle^Prefix^Suffix.</summary>
public sealed record PersonNameComponents(string FamilyName, string GivenName, string MiddleName, string Prefix, string Suffix)
{
    public static readonly PersonNameComponents Empty = new("", "", "", "", "");

    public bool IsEmpty => FamilyName.Length + GivenName.Length + MiddleName.Length + Prefix.Length + Suffix.Length == 0;

    public static PersonNameComponents Parse(string group)
    {
        var parts = group.Split('^');
        string At(int i) => i < parts.Length ? parts[i] : "";
        // More than five components is malformed; keep the extra text in the suffix rather than lose it.
        var suffix = parts.Length > 5 ? string.Join('^', parts[4..]) : At(4);
        return new(At(0), At(1), At(2), At(3), suffix);
    }

    /// <summary>Encoded form with trailing empty components removed (PS3.5 6.2).</summary>
    public override string ToString()
    {
        string[] parts = [FamilyName, GivenName, MiddleName, Prefix, Suffix];
        int n = parts.Length;
        while (n > 0 && parts[n - 1].Length == 0) n--;
        return string.Join('^', parts, 0, n);
    }
}

/// <summary>A PN value with its alphabetic, ideographic and phonetic component groups (PS3.5 6.2.1).</summary>
public sealed record DicomPersonName(PersonNameComponents Alphabetic, PersonNameComponents Ideographic, PersonNameComponents Phonetic)
{
    public DicomPersonName(string family, string given = "", string middle = "", string prefix = "", string suffix = "")
        : this(new PersonNameComponents(family, given, middle, prefix, suffix), PersonNameComponents.Empty, PersonNameComponents.Empty) { }

    public string FamilyName => Alphabetic.FamilyName;
    public string GivenName => Alphabetic.GivenName;

    public static DicomPersonName Parse(string value)
    {
        var groups = value.Split('=');
        PersonNameComponents At(int i) => i < groups.Length ? PersonNameComponents.Parse(groups[i]) : PersonNameComponents.Empty;
        return new(At(0), At(1), At(2));
    }

    public override string ToString()
    {
        string[] g = [Alphabetic.ToString(), Ideographic.ToString(), Phonetic.ToString()];
        int n = 3;
        while (n > 0 && g[n - 1].Length == 0) n--;
        return string.Join('=', g, 0, n);
    }
}
