using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Workflows.Runs;

/// <summary>A dataset a run can target, with its frozen versions (newest first).</summary>
public sealed record LaunchDataset(int Id, string Name, int SeriesCount, IReadOnlyList<LaunchVersion> Versions);

public sealed record LaunchVersion(long Id, int Number, DateTime CreatedAt, int InstanceCount, string? Note);

/// <summary>What the launch form offers as a run's input: the current project's datasets and their frozen versions.</summary>
public sealed class LaunchTargets(IDbContextFactory<KaapanaDbContext> dbFactory)
{
    public async Task<IReadOnlyList<LaunchDataset>> ListAsync(string projectName, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Name == projectName, ct);
        if (project is null) return [];
        var datasets = await db.Datasets.AsNoTracking().Where(d => d.ProjectId == project.Id).OrderBy(d => d.Name)
            .Select(d => new { d.Id, d.Name, Series = db.DatasetSeries.Count(s => s.DatasetId == d.Id) }).ToListAsync(ct);
        var ids = datasets.Select(d => (int?)d.Id).ToList();
        var versions = await db.DatasetVersions.AsNoTracking().Where(v => ids.Contains(v.DatasetId))
            .Select(v => new { v.DatasetId, Version = new LaunchVersion(v.Id, v.Number, v.CreatedAt, v.InstanceCount, v.Note) }).ToListAsync(ct);
        var byDataset = versions.ToLookup(v => v.DatasetId!.Value, v => v.Version);
        return datasets.Select(d => new LaunchDataset(d.Id, d.Name, d.Series, [.. byDataset[d.Id].OrderByDescending(v => v.Number)])).ToList();
    }

    /// <summary>"name vN" of each dataset version (versions outlive their datasets, so the name is the version's own copy).</summary>
    public async Task<Dictionary<long, string>> DescribeVersionsAsync(IReadOnlyCollection<long> versionIds, CancellationToken ct = default)
    {
        if (versionIds.Count == 0) return [];
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.DatasetVersions.AsNoTracking().Where(v => versionIds.Contains(v.Id))
            .ToDictionaryAsync(v => v.Id, v => v.DatasetName + " v" + v.Number, ct);
    }
}
