using Kaapana.Core.Archive.Ingest;
using Kaapana.Dicom;
using Kaapana.Dicom.Json;
using Kaapana.Dicom.Network;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// The Store Instances Response Module (PS3.18 Annex I) of one STOW-RS request, collected part by part, and its HTTP status.
/// <para>
/// The module gives failed items only a Failure Reason code (Table I.2-2). The human-readable reason goes into a private
/// element, which PS3.5 7.8 allows in any data set: creator <see cref="PrivateCreator"/> in group 0009, element 0x01 of its
/// block (normally (0009,1001), UT). Successful items carry it too when there is something to say (a kept duplicate).
/// </para>
/// </summary>
internal sealed class StowResponse(string studiesUrl, string? requiredStudy)
{
    public const string PrivateCreator = "KAAPANA STOW-RS";
    public const ushort PrivateGroup = 0x0009;
    public const byte ReasonElement = 0x01;

    private readonly List<DicomDataset> _stored = [];
    private readonly List<DicomDataset> _failed = [];
    private readonly HashSet<string> _studies = new(StringComparer.Ordinal);
    private bool _allFailuresOutOfResources = true;

    public int Stored => _stored.Count;
    public int Failed => _failed.Count;

    /// <summary>The studies something was stored into.</summary>
    public IReadOnlyCollection<string> Studies => _studies;

    /// <summary>Instances refused by the caller's access (a subset of <see cref="Failed"/>).</summary>
    public int Refused { get; private set; }

    /// <summary>Set when the multipart body itself broke (truncated, no closing boundary): the request was bad syntax.</summary>
    public string? BodyError { get; private set; }

    public void Add(IngestResult result, int part)
    {
        if (result.IsSuccess)
        {
            var item = Reference(result.SopClassUid, result.SopInstanceUid);
            item.Set(DicomTags.RetrieveURL, DicomVR.UR,
                $"{StudyUrl(result.StudyInstanceUid!)}/series/{Uri.EscapeDataString(result.SeriesInstanceUid!)}/instances/{Uri.EscapeDataString(result.SopInstanceUid!)}");
            if (result.ContentDiffers)
                SetReason(item, "an instance with this SOP Instance UID but different content was stored already; the stored one was kept");
            _stored.Add(item);
            _studies.Add(result.StudyInstanceUid!);
            return;
        }
        if (result.Failure == IngestFailure.Refused) Refused++;
        AddFailure(result.SopClassUid, result.SopInstanceUid, FailureReason(result), $"part {part}: {result.Reason}",
            outOfResources: result is { Status: IngestStatus.Failed, Failure: IngestFailure.OutOfResources });
    }

    /// <summary>A part that never reached the archive (not DICOM by its Content-Type, or cut off).</summary>
    public void AddFailure(string? sopClassUid, string? sopInstanceUid, DicomStatus reason, string text, bool outOfResources = false)
    {
        var item = Reference(sopClassUid, sopInstanceUid);
        item.Set(DicomTags.FailureReason, DicomVR.US, reason.Code);
        SetReason(item, text);
        _failed.Add(item);
        _allFailuresOutOfResources &= outOfResources;
    }

    /// <summary>The multipart body is damaged: reported as a failed item (without UIDs) and it decides the status.</summary>
    public void SetBodyError(string message)
    {
        BodyError = message;
        AddFailure(null, null, DicomStatus.CannotUnderstand, message);
    }

    /// <summary>
    /// PS3.18 (2024d) Table 10.5.3-1: 200 "successfully stored all Instances"; 202 "stored some of the Instances but warnings or
    /// failures exist for others"; 400 "unable to store any Instances due to bad syntax" (our damaged multipart body);
    /// 409 "formed correctly but ... unable to store any Instances due to a conflict in the request ... may also be used ... for
    /// a mixture of reasons". 503 (Section 8.5, busy/unavailable) when nothing was stored only because we are out of space.
    /// Duplicates that ingest accepts count as stored.
    /// </summary>
    public int StatusCode =>
        _failed.Count == 0 ? StatusCodes.Status200OK
        : _stored.Count > 0 ? StatusCodes.Status202Accepted
        : BodyError is not null ? StatusCodes.Status400BadRequest
        : _allFailuresOutOfResources ? StatusCodes.Status503ServiceUnavailable
        : StatusCodes.Status409Conflict;

    public DicomDataset ToDataset()
    {
        var ds = new DicomDataset();
        // Type 2: the study's URL when the request names one or everything stored belongs to one study; else empty.
        var study = requiredStudy ?? (_studies.Count == 1 ? _studies.First() : null);
        if (study is null) ds.SetEmpty(DicomTags.RetrieveURL, DicomVR.UR);
        else ds.Set(DicomTags.RetrieveURL, DicomVR.UR, StudyUrl(study));
        if (_failed.Count > 0) ds.SetSequence(DicomTags.FailedSOPSequence, [.. _failed]);
        if (_stored.Count > 0) ds.SetSequence(DicomTags.ReferencedSOPSequence, [.. _stored]);
        return ds;
    }

    public byte[] ToJson() => DicomJsonWriter.SerializeToUtf8Bytes(ToDataset());

    /// <summary>
    /// Failure Reason (PS3.18 Table I.2-2): A700 out of resources, 0110 processing failure (ours); for rejected input A900
    /// when the data set was read but does not belong here (another study than the request's, a conflicting duplicate), C000
    /// when it could not be understood (not DICOM, truncated, key attributes missing, unknown project); 0124 (not authorized)
    /// when the caller's access refused it (its UIDs exist where the caller may not read).
    /// </summary>
    private static DicomStatus FailureReason(IngestResult result) => result.Status switch
    {
        IngestStatus.Rejected when result.Failure == IngestFailure.Refused => DicomStatus.NotAuthorized,
        IngestStatus.Failed => result.Failure == IngestFailure.OutOfResources ? DicomStatus.OutOfResources : DicomStatus.ProcessingFailure,
        _ => result.SopInstanceUid is null ? DicomStatus.CannotUnderstand : DicomStatus.DataSetDoesNotMatchSopClass,
    };

    private string StudyUrl(string study) => $"{studiesUrl}/{Uri.EscapeDataString(study)}";

    private static DicomDataset Reference(string? sopClassUid, string? sopInstanceUid)
    {
        var item = new DicomDataset();
        if (sopClassUid is not null) item.Set(DicomTags.ReferencedSOPClassUID, DicomVR.UI, sopClassUid);
        if (sopInstanceUid is not null) item.Set(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, sopInstanceUid);
        return item;
    }

    private static void SetReason(DicomDataset item, string text) =>
        item.Set(item.GetPrivateTag(PrivateGroup, PrivateCreator, ReasonElement)!.Value, DicomVR.UT, text);
}
