namespace Kaapana.Core.Audit;

/// <summary>The audit trail, bound from <c>Kaapana:Audit</c> (env: <c>Kaapana__Audit__*</c>).</summary>
public sealed class AuditOptions
{
    public const string SectionName = "Kaapana:Audit";

    /// <summary>Entries older than this are deleted by the daily purge. Zero or negative: kept for ever.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(365);

    /// <summary>How often the purge runs (first run shortly after start).</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Entries queued for writing. When the database cannot keep up and the queue is full, new entries are dropped (and
    /// counted in the log) rather than slowing a DICOM association or a request down.
    /// </summary>
    public int QueueCapacity { get; set; } = 100_000;

    /// <summary>Most entries written per transaction.</summary>
    public int MaxBatchSize { get; set; } = 500;
}
