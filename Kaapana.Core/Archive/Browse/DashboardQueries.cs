using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Browse;

public sealed record ArchiveTotals(int Patients, int Studies, int Series, long Instances, long StorageBytes);

/// <summary>A bar of a dashboard chart: its label and, for filtering, the value it stands for.</summary>
public sealed record ChartBar(string Label, int Count);

public sealed record DashboardData(
    ArchiveTotals Totals, IReadOnlyList<ChartBar> Modalities, IReadOnlyList<ChartBar> BodyParts, IReadOnlyList<ChartBar> Manufacturers,
    IReadOnlyList<ChartBar> StudyYears, IReadOnlyList<ChartBar> ArrivalDays);

/// <summary>
/// Counts and distributions of the series of a project (or of every visible project), aggregated in SQL, within the caller's
/// visible projects (<c>projects</c>: null = every project, empty = none; an invisible project counts as empty).
/// </summary>
public interface IDashboardQueries
{
    Task<ArchiveTotals> TotalsAsync(string? project, int[]? projects, CancellationToken ct = default);
    Task<DashboardData> DashboardAsync(string? project, int[]? projects, int arrivalDays = 30, CancellationToken ct = default);
}

public sealed class DashboardQueries(IDbContextFactory<KaapanaDbContext> dbFactory, IBrowseQueries browse) : IDashboardQueries
{
    /// <summary>The label of a bar for series without the attribute.</summary>
    public const string NoValue = "(none)";

    public async Task<ArchiveTotals> TotalsAsync(string? project, int[]? projects, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var q = await BrowseQueries.FilterAsync(db, new BrowseFilter { Project = project }, projects, ct).ConfigureAwait(false);
        if (q is null) return new ArchiveTotals(0, 0, 0, 0, 0);
        var sums = await q.GroupBy(_ => 1)
            .Select(g => new { Series = g.Count(), Instances = g.Sum(x => (long)x.NumberOfInstances), Bytes = g.Sum(x => x.TotalSize) })
            .FirstOrDefaultAsync(ct).ConfigureAwait(false);
        int studies = await q.Select(x => x.StudyId).Distinct().CountAsync(ct).ConfigureAwait(false);
        int patients = await q.Select(x => x.Study.PatientId).Distinct().CountAsync(ct).ConfigureAwait(false);
        return new ArchiveTotals(patients, studies, sums?.Series ?? 0, sums?.Instances ?? 0, sums?.Bytes ?? 0);
    }

    public async Task<DashboardData> DashboardAsync(string? project, int[]? projects, int arrivalDays = 30, CancellationToken ct = default)
    {
        var totals = await TotalsAsync(project, projects, ct).ConfigureAwait(false);
        var filter = new BrowseFilter { Project = project };
        async Task<IReadOnlyList<ChartBar>> Top(string keyword) =>
            (await browse.FacetAsync(filter, projects, keyword, limit: 12, ct: ct).ConfigureAwait(false)).Select(f => new ChartBar(f.Value, f.Count)).ToList();
        var modalities = await Top("Modality").ConfigureAwait(false);
        var bodyParts = await Top("BodyPartExamined").ConfigureAwait(false);
        var manufacturers = await Top("Manufacturer").ConfigureAwait(false);

        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var q = await BrowseQueries.FilterAsync(db, filter, projects, ct).ConfigureAwait(false);
        if (q is null) return new DashboardData(totals, [], [], [], [], []);
        var years = await q.Where(x => x.Study.StudyDate != null && x.Study.StudyDate.Length >= 4)
            .GroupBy(x => x.Study.StudyDate!.Substring(0, 4)).Select(g => new { g.Key, Count = g.Count() })
            .OrderBy(g => g.Key).ToListAsync(ct).ConfigureAwait(false);
        var since = DateTime.UtcNow.Date.AddDays(-(arrivalDays - 1));
        var days = await q.Where(x => x.CreatedAt >= since)
            .GroupBy(x => x.CreatedAt.Date).Select(g => new { g.Key, Count = g.Count() })
            .ToListAsync(ct).ConfigureAwait(false);
        var byDay = days.ToDictionary(d => DateOnly.FromDateTime(d.Key), d => d.Count);
        var arrivals = Enumerable.Range(0, arrivalDays).Select(i => DateOnly.FromDateTime(since.AddDays(i)))
            .Select(d => new ChartBar(d.ToString("yyyy-MM-dd"), byDay.GetValueOrDefault(d))).ToList();
        return new DashboardData(totals, modalities, bodyParts, manufacturers, years.Select(y => new ChartBar(y.Key, y.Count)).ToList(), arrivals);
    }
}
