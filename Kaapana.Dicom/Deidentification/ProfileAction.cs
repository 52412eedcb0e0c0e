namespace Kaapana.Dicom.Deidentification;

/// <summary>The action codes of PS3.15 Table E.1-1 (E.1.1), including the combined ones.</summary>
public enum ProfileAction : byte
{
    /// <summary>K: keep (sequences are still cleaned item by item).</summary>
    Keep,
    /// <summary>X: remove.</summary>
    Remove,
    /// <summary>Z: replace with a zero-length value (or a dummy).</summary>
    Empty,
    /// <summary>D: replace with a non-zero-length dummy value consistent with the VR.</summary>
    Dummy,
    /// <summary>C: clean: replace with values of similar meaning that identify no one (for dates: shift them).</summary>
    Clean,
    /// <summary>U: replace with a UID that is internally consistent within a set of instances.</summary>
    Uid,
    /// <summary>Z/D: Z unless D is required for IOD conformance (Type 2 versus Type 1).</summary>
    EmptyOrDummy,
    /// <summary>X/Z: X unless Z is required (Type 3 versus Type 2).</summary>
    RemoveOrEmpty,
    /// <summary>X/D: X unless D is required (Type 3 versus Type 1).</summary>
    RemoveOrDummy,
    /// <summary>X/Z/D: X unless Z or D is required (Type 3 versus 2 versus 1).</summary>
    RemoveEmptyOrDummy,
    /// <summary>X/Z/U*: X unless Z or replacement of the contained instance UIDs is required (sequences of UID references).</summary>
    RemoveEmptyOrReplaceUids,
}

public static class ProfileActionCodes
{
    public static ProfileAction Parse(string code) => code switch
    {
        "K" => ProfileAction.Keep,
        "X" => ProfileAction.Remove,
        "Z" => ProfileAction.Empty,
        "D" => ProfileAction.Dummy,
        "C" => ProfileAction.Clean,
        "U" => ProfileAction.Uid,
        "Z/D" => ProfileAction.EmptyOrDummy,
        "X/Z" => ProfileAction.RemoveOrEmpty,
        "X/D" => ProfileAction.RemoveOrDummy,
        "X/Z/D" => ProfileAction.RemoveEmptyOrDummy,
        "X/Z/U*" => ProfileAction.RemoveEmptyOrReplaceUids,
        _ => throw new FormatException($"'{code}' is not a PS3.15 Table E.1-1 action code."),
    };

    public static string ToCode(this ProfileAction action) => action switch
    {
        ProfileAction.Keep => "K",
        ProfileAction.Remove => "X",
        ProfileAction.Empty => "Z",
        ProfileAction.Dummy => "D",
        ProfileAction.Clean => "C",
        ProfileAction.Uid => "U",
        ProfileAction.EmptyOrDummy => "Z/D",
        ProfileAction.RemoveOrEmpty => "X/Z",
        ProfileAction.RemoveOrDummy => "X/D",
        ProfileAction.RemoveEmptyOrDummy => "X/Z/D",
        ProfileAction.RemoveEmptyOrReplaceUids => "X/Z/U*",
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };
}

/// <summary>The options of PS3.15 E.3 as columns of Table E.1-1, with their CID 7050 codes.</summary>
[Flags]
public enum ConfidentialityOption
{
    None = 0,
    RetainLongitudinalFullDates = 1 << 0,
    RetainLongitudinalModifiedDates = 1 << 1,
    RetainPatientCharacteristics = 1 << 2,
    RetainDeviceIdentity = 1 << 3,
    RetainInstitutionIdentity = 1 << 4,
    RetainUids = 1 << 5,
    CleanDescriptors = 1 << 6,
    CleanStructuredContent = 1 << 7,
    CleanGraphics = 1 << 8,
}

/// <summary>
/// One row of Table E.1-1: a tag or tag pattern (<paramref name="Mask"/> selects the bits that must match), the Basic Profile
/// action and the action of each option column that has one.
/// </summary>
public sealed record ProfileRule(DicomTag Tag, uint Mask, string Name, ProfileAction Basic, IReadOnlyDictionary<ConfidentialityOption, ProfileAction> Options, bool IsAddition)
{
    public bool Matches(DicomTag tag) => (tag.Value & Mask) == Tag.Value;

    /// <summary>
    /// The action with the given options in force: an option column's action replaces the basic one. Where several selected
    /// options name an action, Keep wins (that is what selecting a retain option asks for).
    /// </summary>
    public ProfileAction ActionFor(ConfidentialityOption options)
    {
        ProfileAction? chosen = null;
        foreach (var (option, action) in Options)
        {
            if ((options & option) == 0) continue;
            if (chosen is null || action == ProfileAction.Keep) chosen = action;
        }
        return chosen ?? Basic;
    }
}
