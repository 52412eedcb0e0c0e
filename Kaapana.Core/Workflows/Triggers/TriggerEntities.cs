using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Workflows.Triggers;

/// <summary>
/// "When a series becomes complete in <see cref="ProjectId"/> and matches <see cref="FiltersJson"/>, run
/// <see cref="AlgorithmId"/> with <see cref="ParametersJson"/>." Each firing is a run on that one series.
/// </summary>
public sealed class TriggerRule
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public bool Enabled { get; set; }
    public int ProjectId { get; set; }

    /// <summary>DICOM keyword → allowed values (JSON object of string arrays): AND across keywords, OR within one.</summary>
    public required string FiltersJson { get; set; }

    public int AlgorithmId { get; set; }

    /// <summary>The parameter values as given (a JSON object); checked against the manifest when saved and again when fired.</summary>
    public required string ParametersJson { get; set; }

    public string? CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>
    /// When the rule was last switched on (null while disabled). Start-up catch-up fires only for series completed since
    /// then, so enabling a rule never fires it on the archive's history.
    /// </summary>
    public DateTime? EnabledAt { get; set; }
}

/// <summary>
/// The once-only record of a rule firing on a series: unique per (rule, series), written before the run is created, so
/// a re-completed series, a second event or a catch-up after restart never fires the rule twice.
/// </summary>
public sealed class TriggerFiring
{
    public long Id { get; set; }
    public int RuleId { get; set; }
    public required string SeriesInstanceUID { get; set; }
    public DateTime FiredAt { get; set; }

    /// <summary>The run it created; null while being created, or when the run was refused before it could exist (<see cref="Error"/>).</summary>
    public long? RunId { get; set; }

    public string? Error { get; set; }
}

internal static class TriggerModel
{
    public static void Configure(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<TriggerRule>(r =>
        {
            r.Property(x => x.Name).HasMaxLength(200);
            r.Property(x => x.CreatedBy).HasMaxLength(200);
            r.HasIndex(x => x.Name).IsUnique();
            r.HasOne<Project>().WithMany().HasForeignKey(x => x.ProjectId).OnDelete(DeleteBehavior.Restrict);
            r.HasOne<Algorithm>().WithMany().HasForeignKey(x => x.AlgorithmId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<TriggerFiring>(f =>
        {
            f.Property(x => x.SeriesInstanceUID).HasMaxLength(64);
            f.HasIndex(x => new { x.RuleId, x.SeriesInstanceUID }).IsUnique();
            f.HasIndex(x => x.RunId);
            f.HasOne<TriggerRule>().WithMany().HasForeignKey(x => x.RuleId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
