namespace Kaapana.Dicom.Network.Query;

/// <summary>The levels of the Query/Retrieve information models (PS3.4 C.3), root first.</summary>
public enum QueryRetrieveLevel
{
    Patient,
    Study,
    Series,
    /// <summary>Composite object instance level, encoded as <c>IMAGE</c>.</summary>
    Image,
}

/// <summary>Conversion between <see cref="QueryRetrieveLevel"/> and the Query/Retrieve Level (0008,0052) code string.</summary>
public static class QueryRetrieveLevels
{
    /// <summary>The defined term: PATIENT, STUDY, SERIES or IMAGE.</summary>
    public static string ToCode(this QueryRetrieveLevel level) => level switch
    {
        QueryRetrieveLevel.Patient => "PATIENT",
        QueryRetrieveLevel.Study => "STUDY",
        QueryRetrieveLevel.Series => "SERIES",
        QueryRetrieveLevel.Image => "IMAGE",
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    /// <summary>Parses a defined term (padding ignored; case-sensitive as CS values are).</summary>
    public static bool TryParse(string? code, out QueryRetrieveLevel level)
    {
        level = default;
        switch (code?.Trim(' ', '\0'))
        {
            case "PATIENT": level = QueryRetrieveLevel.Patient; return true;
            case "STUDY": level = QueryRetrieveLevel.Study; return true;
            case "SERIES": level = QueryRetrieveLevel.Series; return true;
            case "IMAGE": level = QueryRetrieveLevel.Image; return true;
            default: return false;
        }
    }

    public static QueryRetrieveLevel Parse(string code) =>
        TryParse(code, out var level) ? level : throw new FormatException($"'{code}' is not a Query/Retrieve Level (PATIENT, STUDY, SERIES, IMAGE).");

    /// <summary>The Query/Retrieve Level of an identifier, if present and valid.</summary>
    public static bool TryGetLevel(DicomDataset identifier, out QueryRetrieveLevel level)
    {
        level = default;
        return identifier.TryGet<string>(DicomTags.QueryRetrieveLevel, out var code) && TryParse(code, out level);
    }

    /// <summary>The unique key of a level (PS3.4 C.6): Patient ID, Study/Series Instance UID, SOP Instance UID.</summary>
    public static DicomTag UniqueKey(this QueryRetrieveLevel level) => level switch
    {
        QueryRetrieveLevel.Patient => DicomTags.PatientID,
        QueryRetrieveLevel.Study => DicomTags.StudyInstanceUID,
        QueryRetrieveLevel.Series => DicomTags.SeriesInstanceUID,
        QueryRetrieveLevel.Image => DicomTags.SOPInstanceUID,
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };
}
