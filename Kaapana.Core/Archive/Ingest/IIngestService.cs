using Kaapana.Core.Archive.Index;
using Kaapana.Dicom;

namespace Kaapana.Core.Archive.Ingest;

/// <summary>
/// The one way into the archive, for every door (DICOM SCP, STOW-RS, upload, import, algorithm outputs, re-indexing).
/// Validates, stores the file atomically, commits its index row through the batched writer, and returns only when both
/// are durable at the configured <see cref="ArchiveDurability"/>: answer the sender (C-STORE-RSP, STOW response) after it.
/// Thread-safe; call it concurrently from as many associations or requests as you like.
/// </summary>
public interface IIngestService
{
    /// <summary>
    /// Ingests one instance read from <paramref name="input"/> (forward only; never buffered whole in memory): a Part 10
    /// file, or a bare data set when <see cref="IngestContext.DatasetEncoding"/> is set. Outcomes are results, not
    /// exceptions: <see cref="IngestStatus.Rejected"/> for bad input, <see cref="IngestStatus.Failed"/> for our trouble (disk
    /// full, index unavailable). Cancellation throws <see cref="OperationCanceledException"/> and leaves nothing behind.
    /// </summary>
    Task<IngestResult> IngestAsync(Stream input, IngestContext context, CancellationToken ct = default);
}

/// <summary>Who sends an instance and where it should be filed.</summary>
public sealed record IngestContext
{
    public IngestSource Source { get; init; }

    /// <summary>DIMSE: the peer's AE title.</summary>
    public string? CallingAE { get; init; }

    /// <summary>DIMSE: the AE title the peer called. Picks the project through a receiving endpoint when <see cref="Project"/> is not set.</summary>
    public string? CalledAE { get; init; }

    /// <summary>The peer's address (IP:port), for provenance.</summary>
    public string? PeerAddress { get; init; }

    /// <summary>The authenticated user of an upload or STOW request.</summary>
    public string? UploadUser { get; init; }

    /// <summary>Project name to file the series into. Must exist. Null: by <see cref="CalledAE"/>, else the default project.</summary>
    public string? Project { get; init; }

    /// <summary>Dataset (name, within the project) the series is added to. Must exist. Null: the receiving endpoint's, if any.</summary>
    public string? Dataset { get; init; }

    /// <summary>
    /// When set, an instance of any other study is <see cref="IngestStatus.Rejected"/> before anything is stored
    /// (STOW-RS to <c>/studies/{study}</c>, PS3.18 10.5.1). The result still carries the instance's UIDs.
    /// </summary>
    public string? RequiredStudyInstanceUid { get; init; }

    /// <summary>
    /// When set, asked for every instance after its header is read and before anything is stored or linked: a reason
    /// rejects it (<see cref="IngestFailure.Refused"/>), null lets it in. User doors set it from the caller's access
    /// (<see cref="Access.IngestAccess.AdmissionFor"/>).
    /// </summary>
    public IngestAdmission? Admission { get; init; }

    /// <summary>Overrides <see cref="ArchiveOptions.DuplicatePolicy"/> for this instance.</summary>
    public DuplicatePolicy? DuplicatePolicy { get; init; }

    /// <summary>
    /// Set when the stream is a bare data set (e.g. a C-STORE's data set): the pipeline writes the Part 10 header
    /// (preamble, meta information) from these values in front of it.
    /// </summary>
    public DatasetEncoding? DatasetEncoding { get; init; }

    public static IngestContext Default { get; } = new();
}

/// <summary>The UIDs of an instance about to be ingested, for <see cref="IngestContext.Admission"/>.</summary>
public sealed record IngestCandidate(string StudyInstanceUid, string SeriesInstanceUid, string SopInstanceUid);

/// <summary>Null admits the instance; a reason refuses it.</summary>
public delegate ValueTask<string?> IngestAdmission(IngestCandidate instance, CancellationToken ct);

/// <summary>What a bare data set needs for its file meta information.</summary>
public sealed record DatasetEncoding(DicomTransferSyntax TransferSyntax, string SopClassUid, string SopInstanceUid, string? SourceAETitle = null);

public enum IngestStatus
{
    /// <summary>New (or replacing, see <see cref="IngestResult.Replaced"/>) instance; file and row are durable.</summary>
    Stored,

    /// <summary>
    /// The SOP Instance UID was stored already: with the same content (idempotent success) or, under
    /// <see cref="Archive.DuplicatePolicy.Keep"/>, with different content (<see cref="IngestResult.ContentDiffers"/>), kept.
    /// Either way a success for the sender.
    /// </summary>
    Duplicate,

    /// <summary>The input is not acceptable (not DICOM, truncated, key attributes missing, conflicting duplicate, unknown project).</summary>
    Rejected,

    /// <summary>We could not store it (see <see cref="IngestResult.Failure"/>); the sender may retry later.</summary>
    Failed,
}

public enum IngestFailure
{
    None,

    /// <summary>Disk or database full; nothing was kept. Maps to DIMSE A700 "Refused: out of resources".</summary>
    OutOfResources,

    /// <summary>Anything else (I/O error, index unavailable). Maps to DIMSE A700/0110 or HTTP 500.</summary>
    Internal,

    /// <summary>With <see cref="IngestStatus.Rejected"/>: refused by <see cref="IngestContext.Admission"/> (access); nothing was stored.</summary>
    Refused,
}

/// <summary>The outcome of one ingest. UIDs are set whenever the header could be read.</summary>
public sealed record IngestResult
{
    public required IngestStatus Status { get; init; }
    public string? SopInstanceUid { get; init; }
    public string? SopClassUid { get; init; }
    public string? StudyInstanceUid { get; init; }
    public string? SeriesInstanceUid { get; init; }

    /// <summary>Why it was rejected or failed (for logs and the sender's error comment).</summary>
    public string? Reason { get; init; }

    public IngestFailure Failure { get; init; }

    /// <summary>SHA-256 of the data set (see Archive/README.md).</summary>
    public string? ContentHash { get; init; }

    public long Size { get; init; }

    /// <summary>Stored in place of an earlier instance with the same UID (policy Replace).</summary>
    public bool Replaced { get; init; }

    /// <summary>A duplicate whose content differs from the stored one (policy Keep kept the stored one).</summary>
    public bool ContentDiffers { get; init; }

    /// <summary>Stored or duplicate: the sender may count it as delivered.</summary>
    public bool IsSuccess => Status is IngestStatus.Stored or IngestStatus.Duplicate;
}
