namespace Kaapana.Dicom.Network.Query;

/// <summary>How an SCP (or QIDO-RS) interprets the keys of a query. Immutable; <see cref="Default"/> suits most callers.</summary>
public sealed record QueryMatchOptions
{
    public static QueryMatchOptions Default { get; } = new();

    /// <summary>
    /// PN single value and wildcard matching ignores case (PS3.4 C.2.2.2.1 lets an SCP choose). On by default, as in Orthanc
    /// and dcm4chee: users type <c>doe*</c> for <c>DOE^JOHN</c>. Every other VR always matches case-sensitively.
    /// </summary>
    public bool PersonNameCaseInsensitive { get; init; } = true;

    /// <summary>
    /// Combined date and time range matching (PS3.4 C.2.2.2.5, agreed by extended negotiation): a date key and its time key
    /// (e.g. Study Date and Study Time) form one date-time range instead of two independent ones.
    /// </summary>
    public bool CombinedDateTimeMatching { get; init; }

    /// <summary>
    /// Keys other than UIDs with several values (e.g. Modality <c>CT\MR</c>) match when any value matches (multiple value matching).
    /// When false, such keys are rejected as invalid.
    /// </summary>
    public bool MultipleValueMatching { get; init; } = true;

    /// <summary>
    /// Keys the SCP can match on; others are treated as return keys (universal matching), as PS3.4 C.2.2.1.2 asks for
    /// unsupported optional keys. Null: every key is matched.
    /// </summary>
    public Func<DicomTag, bool>? IsKeySupported { get; init; }

    /// <summary>
    /// Date and time pairs that combined matching joins (date tag → time tag), PS3.4 C.2.2.2.5 lists them by IOD attribute.
    /// </summary>
    public static IReadOnlyDictionary<DicomTag, DicomTag> DateTimePairs { get; } = new Dictionary<DicomTag, DicomTag>
    {
        [DicomTags.StudyDate] = DicomTags.StudyTime,
        [DicomTags.SeriesDate] = DicomTags.SeriesTime,
        [DicomTags.AcquisitionDate] = DicomTags.AcquisitionTime,
        [DicomTags.ContentDate] = DicomTags.ContentTime,
        [DicomTags.InstanceCreationDate] = DicomTags.InstanceCreationTime,
        [DicomTags.PatientBirthDate] = DicomTags.PatientBirthTime,
        [DicomTags.PerformedProcedureStepStartDate] = DicomTags.PerformedProcedureStepStartTime,
        [DicomTags.PerformedProcedureStepEndDate] = DicomTags.PerformedProcedureStepEndTime,
        [DicomTags.ScheduledProcedureStepStartDate] = DicomTags.ScheduledProcedureStepStartTime,
        [DicomTags.ScheduledProcedureStepEndDate] = DicomTags.ScheduledProcedureStepEndTime,
        [DicomTags.PresentationCreationDate] = DicomTags.PresentationCreationTime,
        [DicomTags.IssueDateOfImagingServiceRequest] = DicomTags.IssueTimeOfImagingServiceRequest,
    };
}
