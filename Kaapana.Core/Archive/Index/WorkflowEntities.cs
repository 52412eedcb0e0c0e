using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Index;

// The workflow engine's rows (Kaapana.Core/Workflows/README.md). JSON columns hold what is read whole and never queried
// inside (manifests, parameters, metrics, input lists), so the model stays provider-neutral.

/// <summary>How an algorithm's items execute: in a container, or in the server's own code (Workflows/BuiltIn, no Docker needed).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AlgorithmKind>))]
public enum AlgorithmKind
{
    Container = 0,
    BuiltIn = 1,
}

/// <summary>A registered algorithm: its manifest and the image ID it was pinned to when registered.</summary>
public sealed class Algorithm
{
    public int Id { get; set; }

    /// <summary>Container (a registered image) or BuiltIn (seeded at start-up; its "digest" is <c>builtin:&lt;name&gt;@&lt;version&gt;</c>).</summary>
    public AlgorithmKind Kind { get; set; }
    public required string Name { get; set; }
    public required string Version { get; set; }

    /// <summary>The reference it was registered from (e.g. <c>kaapana/threshold-seg:latest</c>).</summary>
    public required string ImageReference { get; set; }

    /// <summary>What runs use: the image ID (<c>sha256:…</c>) or repo digest at registration.</summary>
    public required string ImageDigest { get; set; }

    public required string ManifestJson { get; set; }

    /// <summary>Where the manifest came from: the image label or an upload.</summary>
    public bool ManifestFromImage { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>An admin let its containers use the network (its manifest asks for it).</summary>
    public bool NetworkAllowed { get; set; }

    public DateTime RegisteredAt { get; set; }
}

/// <summary>The states of an item, and of a run rolled up from its items. Stored as numbers, written as names in JSON.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WorkState>))]
public enum WorkState
{
    Queued = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
    Cancelled = 4,
    TimedOut = 5,
}

/// <summary>One launch of an algorithm on frozen input. Everything needed to repeat it is a copy here, not a reference.</summary>
public sealed class WorkflowRun
{
    public long Id { get; set; }
    public int AlgorithmId { get; set; }
    public required string AlgorithmName { get; set; }
    public required string AlgorithmVersion { get; set; }
    public required string ImageDigest { get; set; }

    /// <summary>The manifest as it was when the run was created.</summary>
    public required string ManifestJson { get; set; }

    /// <summary>Checked parameter values with defaults filled in (a JSON object).</summary>
    public required string ParametersJson { get; set; }

    public int ProjectId { get; set; }

    /// <summary>The frozen dataset version the run reads, or null for an explicit series selection.</summary>
    public long? DatasetVersionId { get; set; }

    /// <summary>The selected series UIDs (JSON array) when there is no dataset version.</summary>
    public string? SeriesSelectionJson { get; set; }

    public WorkState State { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }
    public string? RequestedBy { get; set; }

    /// <summary>The dataset derived series are filed in (named after the run), when the algorithm writes DICOM.</summary>
    public int? ResultsDatasetId { get; set; }

    /// <summary>The run this one repeats ("re-run with the same settings").</summary>
    public long? RerunOf { get; set; }

    public bool CancelRequested { get; set; }

    /// <summary>The trigger rule whose firing created this run (null for runs launched by a person or the API).</summary>
    public int? TriggerRuleId { get; set; }
}

/// <summary>One container's worth of work: a series, a study or the whole input, depending on the manifest's scope.</summary>
public sealed class RunItem
{
    public long Id { get; set; }
    public long RunId { get; set; }

    /// <summary>Series or Study Instance UID for those scopes, <c>dataset</c> for the whole input.</summary>
    public required string ScopeKey { get; set; }

    /// <summary>The item's instances as a JSON array of [study, series, sop] UID triples, fixed at creation.</summary>
    public required string InputJson { get; set; }

    public int InstanceCount { get; set; }
    public WorkState State { get; set; }

    /// <summary>Executions started (1 on the first).</summary>
    public int Attempt { get; set; }

    /// <summary>
    /// Incremented each time the item is handed to the job queue; a job carries the value it was enqueued with and does
    /// nothing when it no longer matches, so stale or duplicate jobs (after a crash, retry or cancel) are harmless.
    /// </summary>
    public int Dispatch { get; set; }

    public string? JobId { get; set; }
    public string? ContainerId { get; set; }
    public long? ExitCode { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }

    /// <summary>Relative to the data directory.</summary>
    public string? LogPath { get; set; }

    public string? Error { get; set; }

    /// <summary>The item's <c>metrics.json</c> (a flat JSON object), when the algorithm declares metrics.</summary>
    public string? MetricsJson { get; set; }
}

/// <summary>A non-DICOM output file kept under the data directory.</summary>
public sealed class RunArtifact
{
    public long Id { get; set; }
    public long RunId { get; set; }
    public long RunItemId { get; set; }

    /// <summary>Path inside <c>/output</c> ('/'-separated).</summary>
    public required string Name { get; set; }

    /// <summary>Where it is stored, relative to the data directory.</summary>
    public required string StoragePath { get; set; }

    public long Size { get; set; }

    /// <summary>SHA-256 of the file, lower-case hex.</summary>
    public required string Sha256 { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>Provenance link of a series an algorithm wrote: which item made it from which source series.</summary>
public sealed class DerivedSeries
{
    public long Id { get; set; }
    public required string SeriesInstanceUID { get; set; }
    public long RunId { get; set; }
    public long RunItemId { get; set; }

    /// <summary>JSON array of the source Series Instance UIDs (the item's input).</summary>
    public required string SourceSeriesJson { get; set; }

    public int InstanceCount { get; set; }

    /// <summary>False while its ingest is in progress: a crash leaves it false, and the item's next attempt removes it.</summary>
    public bool Complete { get; set; }

    public DateTime CreatedAt { get; set; }
}

internal static class WorkflowModel
{
    private const int UI = 64;

    public static void Configure(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Algorithm>(a =>
        {
            a.Property(x => x.Name).HasMaxLength(64);
            a.Property(x => x.Version).HasMaxLength(64);
            a.Property(x => x.ImageReference).HasMaxLength(400);
            a.Property(x => x.ImageDigest).HasMaxLength(400);
            a.HasIndex(x => new { x.Name, x.Version }).IsUnique();
        });

        modelBuilder.Entity<WorkflowRun>(r =>
        {
            r.ToTable("WorkflowRuns");
            r.Property(x => x.AlgorithmName).HasMaxLength(64);
            r.Property(x => x.AlgorithmVersion).HasMaxLength(64);
            r.Property(x => x.ImageDigest).HasMaxLength(400);
            r.Property(x => x.RequestedBy).HasMaxLength(200);
            r.HasIndex(x => x.State);
            r.HasIndex(x => x.ProjectId);
            r.HasIndex(x => x.TriggerRuleId);
            r.HasOne<Algorithm>().WithMany().HasForeignKey(x => x.AlgorithmId).OnDelete(DeleteBehavior.Restrict);
            r.HasOne<Project>().WithMany().HasForeignKey(x => x.ProjectId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<RunItem>(i =>
        {
            i.Property(x => x.ScopeKey).HasMaxLength(UI);
            i.Property(x => x.JobId).HasMaxLength(100);
            i.Property(x => x.ContainerId).HasMaxLength(100);
            i.Property(x => x.LogPath).HasMaxLength(400);
            i.HasIndex(x => new { x.RunId, x.State });
            i.HasIndex(x => x.State);
            i.HasOne<WorkflowRun>().WithMany().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<RunArtifact>(a =>
        {
            a.Property(x => x.Name).HasMaxLength(400);
            a.Property(x => x.StoragePath).HasMaxLength(600);
            a.Property(x => x.Sha256).HasMaxLength(64);
            a.HasIndex(x => x.RunId);
            a.HasIndex(x => x.RunItemId);
            a.HasOne<RunItem>().WithMany().HasForeignKey(x => x.RunItemId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<Kaapana.Core.Workflows.BuiltIn.DeidentificationKey>(k =>
        {
            k.HasKey(x => x.ProjectId);
            k.Property(x => x.ProjectId).ValueGeneratedNever();
            k.HasOne<Project>().WithMany().HasForeignKey(x => x.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DerivedSeries>(d =>
        {
            d.Property(x => x.SeriesInstanceUID).HasMaxLength(UI);
            d.HasIndex(x => x.SeriesInstanceUID).IsUnique();
            d.HasIndex(x => x.RunItemId);
            d.HasIndex(x => x.RunId);
            d.HasOne<RunItem>().WithMany().HasForeignKey(x => x.RunItemId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
