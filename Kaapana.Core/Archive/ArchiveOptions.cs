namespace Kaapana.Core.Archive;

/// <summary>Settings of the archive, bound from <c>Kaapana:Archive</c> (env: <c>Kaapana__Archive__*</c>).</summary>
public sealed class ArchiveOptions
{
    /// <summary>What an acknowledged instance survives (see ARCHITECTURE.md, "Durability levels").</summary>
    public ArchiveDurability Durability { get; set; } = ArchiveDurability.ProcessCrashSafe;

    /// <summary>What to do when an instance arrives whose SOP Instance UID is stored already with different content.</summary>
    public DuplicatePolicy DuplicatePolicy { get; set; } = DuplicatePolicy.Keep;

    /// <summary>Most instances the index writer commits in one transaction.</summary>
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>Capacity of the index writer's queue; ingesters wait (back-pressure) when it is full.</summary>
    public int WriteQueueCapacity { get; set; } = 4096;

    /// <summary>A series is "complete" when no instance has arrived for this long (default 10 s); a late instance reopens it.</summary>
    public TimeSpan SeriesQuietPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Project that receives data when neither the caller nor a receiving endpoint names one.</summary>
    public string DefaultProject { get; set; } = "default";

    /// <summary>The archive's own AE title; instances sent to it go to <see cref="DefaultProject"/>.</summary>
    public string DefaultAETitle { get; set; } = "KAAPANA";

    /// <summary>
    /// Called AE titles that file incoming data into a project (and optionally a dataset), e.g.
    /// <c>Kaapana:Archive:ReceivingEndpoints:0:AETitle=LUNG_STUDY</c>, <c>...:0:Project=lung</c>. Seeded into the index at
    /// startup (projects and datasets are created when missing); endpoints added at run time live in the index only.
    /// </summary>
    public List<ReceivingEndpointOptions> ReceivingEndpoints { get; set; } = [];
}

public sealed class ReceivingEndpointOptions
{
    public string AETitle { get; set; } = "";
    public string Project { get; set; } = "";
    public string? Dataset { get; set; }
}

public enum ArchiveDurability
{
    /// <summary>
    /// Survives a crash of the server process (SIGKILL): file written to a temporary name and renamed, index row committed
    /// in SQLite WAL mode with <c>synchronous=NORMAL</c>. No fsync per instance.
    /// </summary>
    ProcessCrashSafe,

    /// <summary>
    /// Also survives power loss: each file is fsynced before its rename, its directory after, and the index commits with
    /// <c>synchronous=FULL</c>. Directory syncs and the index commit are shared by every instance of a batch (group commit).
    /// </summary>
    PowerLossSafe,
}

public enum DuplicatePolicy
{
    /// <summary>Keep the stored instance, drop the new one and log a warning; the sender is told it succeeded.</summary>
    Keep,

    /// <summary>Store the new instance in place of the old one.</summary>
    Replace,

    /// <summary>Refuse the new instance (<see cref="Ingest.IngestStatus.Rejected"/>).</summary>
    Reject,
}
