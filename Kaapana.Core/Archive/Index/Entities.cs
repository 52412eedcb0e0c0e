namespace Kaapana.Core.Archive.Index;

// The DICOM model of the index: Patient 1-n Study 1-n Series 1-n Instance. Attributes are the ones QIDO-RS and C-FIND
// return or match on (PS3.4 C.6.1.1, PS3.18 10.6.1.2); dates and times stay in their DICOM text form (DA YYYYMMDD, TM
// HHMMSS.FFFFFF), which sorts and range-matches as text on every provider. Timestamps of our own are UTC DateTime.
// Counts and sizes on the upper levels are maintained by the index writer, so queries never aggregate instances.

/// <summary>A patient, keyed by Patient ID (data without one share the patient with the empty ID).</summary>
public sealed class Patient
{
    public long Id { get; set; }
    public required string PatientID { get; set; }
    public string? IssuerOfPatientID { get; set; }
    public string? PatientName { get; set; }

    /// <summary><see cref="PatientName"/> upper-cased, without diacritics, with component separators as spaces: what name searches match.</summary>
    public string? PatientNameSearch { get; set; }

    public string? PatientBirthDate { get; set; }
    public string? PatientSex { get; set; }
    public int NumberOfStudies { get; set; }
    public int NumberOfSeries { get; set; }
    public int NumberOfInstances { get; set; }
    public DateTime CreatedAt { get; set; }
    public List<Study> Studies { get; set; } = [];
}

public sealed class Study
{
    public long Id { get; set; }
    public long PatientId { get; set; }
    public Patient Patient { get; set; } = null!;
    public required string StudyInstanceUID { get; set; }
    public string? StudyDate { get; set; }
    public string? StudyTime { get; set; }
    public string? AccessionNumber { get; set; }
    public string? StudyID { get; set; }
    public string? StudyDescription { get; set; }
    public string? ReferringPhysicianName { get; set; }

    /// <summary>Distinct modalities of the study's series, sorted, joined by backslash (as the attribute is encoded).</summary>
    public string? ModalitiesInStudy { get; set; }

    public int NumberOfSeries { get; set; }
    public int NumberOfInstances { get; set; }
    public long TotalSize { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime LastReceivedAt { get; set; }
    public List<Series> Series { get; set; } = [];
}

public sealed class Series
{
    public long Id { get; set; }
    public long StudyId { get; set; }
    public Study Study { get; set; } = null!;
    public required string SeriesInstanceUID { get; set; }
    public string? Modality { get; set; }
    public int? SeriesNumber { get; set; }
    public string? SeriesDescription { get; set; }
    public string? BodyPartExamined { get; set; }
    public string? Manufacturer { get; set; }
    public string? ManufacturerModelName { get; set; }
    public string? SeriesDate { get; set; }
    public string? SeriesTime { get; set; }
    public int NumberOfInstances { get; set; }
    public long TotalSize { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime LastReceivedAt { get; set; }

    /// <summary>True once no instance arrived for the quiet period; a late instance sets it back to false.</summary>
    public bool IsComplete { get; set; }

    public DateTime? CompletedAt { get; set; }
    public List<Instance> Instances { get; set; } = [];
    public List<SeriesAttribute> Attributes { get; set; } = [];
}

/// <summary>Where an instance came in.</summary>
public enum IngestSource
{
    Unknown = 0,
    Dimse = 1,
    Stow = 2,
    Upload = 3,
    Import = 4,
    Algorithm = 5,
    Reindex = 6,
}

public sealed class Instance
{
    public long Id { get; set; }
    public long SeriesId { get; set; }
    public Series Series { get; set; } = null!;
    public required string SOPInstanceUID { get; set; }
    public required string SOPClassUID { get; set; }
    public int? InstanceNumber { get; set; }
    public required string TransferSyntaxUID { get; set; }
    public int? NumberOfFrames { get; set; }
    public int? Rows { get; set; }
    public int? Columns { get; set; }

    /// <summary>The <see cref="Storage.IArchiveStorage"/> key of the file (relative to the archive root, '/'-separated).</summary>
    public required string StoragePath { get; set; }

    public long FileSize { get; set; }

    /// <summary>SHA-256 (lower-case hex) of the data set bytes, i.e. the file without its meta information (see Archive/README.md).</summary>
    public required string ContentHash { get; set; }

    public DateTime ReceivedAt { get; set; }
    public IngestSource Source { get; set; }
    public string? CallingAE { get; set; }
    public string? CalledAE { get; set; }
    public string? PeerAddress { get; set; }
    public string? UploadUser { get; set; }
}

/// <summary>
/// Every other top-level, non-bulk, public attribute of a series, as text (values joined by backslash), taken from the
/// first instance the series received, so any keyword is queryable: <c>Tag == DicomTags.SliceThickness.Value</c>.
/// </summary>
public sealed class SeriesAttribute
{
    public long SeriesId { get; set; }

    /// <summary>The tag as (group &lt;&lt; 16 | element), stored signed (unchecked) so every provider has an integer type for it.</summary>
    public int Tag { get; set; }

    public required string Value { get; set; }
}

/// <summary>Membership of a series in a project (many-to-many).</summary>
public sealed class ProjectSeries
{
    public int ProjectId { get; set; }
    public long SeriesId { get; set; }
    public Series Series { get; set; } = null!;
    public DateTime AddedAt { get; set; }
}

/// <summary>A named set of series within a project. Deleting it never deletes data.</summary>
public sealed class Dataset
{
    public int Id { get; set; }
    public int ProjectId { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class DatasetSeries
{
    public int DatasetId { get; set; }
    public long SeriesId { get; set; }
    public Series Series { get; set; } = null!;
    public DateTime AddedAt { get; set; }
}

/// <summary>
/// An immutable snapshot of a dataset: the instance UIDs it held when frozen and a SHA-256 over them. It outlives its
/// dataset (<see cref="DatasetId"/> becomes null) and the series it names (its UID list is never edited).
/// </summary>
public sealed class DatasetVersion
{
    public long Id { get; set; }
    public int? DatasetId { get; set; }
    public int ProjectId { get; set; }
    public required string DatasetName { get; set; }

    /// <summary>1, 2, ... per dataset.</summary>
    public int Number { get; set; }

    public DateTime CreatedAt { get; set; }
    public string? Note { get; set; }
    public int InstanceCount { get; set; }

    /// <summary>SHA-256 (hex) over the sorted SOP Instance UIDs, each followed by a newline.</summary>
    public required string UidListHash { get; set; }

    public List<DatasetVersionItem> Items { get; set; } = [];
}

public sealed class DatasetVersionItem
{
    public long DatasetVersionId { get; set; }
    public required string StudyInstanceUID { get; set; }
    public required string SeriesInstanceUID { get; set; }
    public required string SOPInstanceUID { get; set; }
}

/// <summary>A called AE title that files what it receives into a project and, optionally, a dataset.</summary>
public sealed class ReceivingEndpoint
{
    public int Id { get; set; }
    public required string AETitle { get; set; }
    public int ProjectId { get; set; }
    public int? DatasetId { get; set; }
    public string? Description { get; set; }
}
