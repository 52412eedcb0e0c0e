using Kaapana.Dicom;
using Kaapana.Dicom.Network.Query;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// One QIDO-RS search resource (PS3.18 10.6.1): the level it searches, the UIDs its path fixes, and the attributes it returns
/// by default (PS3.18 Tables 10.6.3-3 to 10.6.3-5; a search without the study, or the series, in its path also returns the
/// study's, or the series', defaults).
/// </summary>
public sealed record QidoResource(QueryRetrieveLevel Level, string? StudyInstanceUID = null, string? SeriesInstanceUID = null)
{
    private static readonly DicomTag[] StudyDefaults =
    [
        DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.AccessionNumber, DicomTags.InstanceAvailability, DicomTags.ModalitiesInStudy,
        DicomTags.ReferringPhysicianName, DicomTags.TimezoneOffsetFromUTC, DicomTags.PatientName, DicomTags.PatientID,
        DicomTags.PatientBirthDate, DicomTags.PatientSex, DicomTags.StudyInstanceUID, DicomTags.StudyID,
        DicomTags.NumberOfStudyRelatedSeries, DicomTags.NumberOfStudyRelatedInstances,
    ];

    private static readonly DicomTag[] SeriesDefaults =
    [
        DicomTags.Modality, DicomTags.TimezoneOffsetFromUTC, DicomTags.SeriesDescription, DicomTags.SeriesInstanceUID, DicomTags.SeriesNumber,
        DicomTags.NumberOfSeriesRelatedInstances, DicomTags.PerformedProcedureStepStartDate, DicomTags.PerformedProcedureStepStartTime,
        DicomTags.RequestAttributesSequence,
    ];

    private static readonly DicomTag[] InstanceDefaults =
    [
        DicomTags.SOPClassUID, DicomTags.SOPInstanceUID, DicomTags.InstanceAvailability, DicomTags.TimezoneOffsetFromUTC,
        DicomTags.InstanceNumber, DicomTags.Rows, DicomTags.Columns, DicomTags.BitsAllocated, DicomTags.NumberOfFrames,
    ];

    /// <summary>The default return attributes (Retrieve URL, which the index does not hold, is added to every result separately).</summary>
    public IEnumerable<DicomTag> DefaultAttributes
    {
        get
        {
            IEnumerable<DicomTag> tags = Level switch
            {
                QueryRetrieveLevel.Study => StudyDefaults,
                QueryRetrieveLevel.Series => SeriesDefaults,
                _ => InstanceDefaults,
            };
            if (Level > QueryRetrieveLevel.Study && StudyInstanceUID is null) tags = tags.Concat(StudyDefaults);
            if (Level > QueryRetrieveLevel.Series && SeriesInstanceUID is null) tags = tags.Concat(SeriesDefaults);
            return tags.Distinct();
        }
    }

    /// <summary>What the resource searches for, for messages: "studies", "series", "instances".</summary>
    public string Noun => Level switch
    {
        QueryRetrieveLevel.Study => "studies",
        QueryRetrieveLevel.Series => "series",
        _ => "instances",
    };

    /// <summary>Retrieve URL (0008,1190) of a result: the WADO-RS resource of the study, series or instance under <paramref name="service"/>.</summary>
    public string RetrieveUrl(string service, DicomDataset candidate)
    {
        var url = $"{service}/studies/{candidate.GetString(DicomTags.StudyInstanceUID)}";
        if (Level >= QueryRetrieveLevel.Series) url += $"/series/{candidate.GetString(DicomTags.SeriesInstanceUID)}";
        if (Level >= QueryRetrieveLevel.Image) url += $"/instances/{candidate.GetString(DicomTags.SOPInstanceUID)}";
        return url;
    }
}
