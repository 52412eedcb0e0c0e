using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Browse;

/// <summary>A dataset with its project and sizes.</summary>
public sealed record DatasetDetail(int Id, int ProjectId, string Project, string Name, string? Description, DateTime CreatedAt,
    int SeriesCount, long InstanceCount, long TotalSize);

/// <summary>A frozen version as the dataset page lists it.</summary>
public sealed record DatasetVersionRow(long Id, int Number, DateTime CreatedAt, string? Note, int InstanceCount, string UidListHash);

/// <summary>Read side of the dataset pages: one dataset, its versions, the series UIDs of a version.</summary>
public interface IDatasetQueries
{
    /// <summary>The dataset, with no regard to who asks: callers check <see cref="IAccessControl.CanDatasetAsync"/> first.</summary>
    Task<DatasetDetail?> GetAsync(int datasetId, CancellationToken ct = default);

    /// <summary>The dataset when its project is one of <paramref name="projects"/> (null = every project); otherwise null, as for an unknown id.</summary>
    Task<DatasetDetail?> GetAsync(int datasetId, int[]? projects, CancellationToken ct = default);
    Task<IReadOnlyList<DatasetVersionRow>> VersionsAsync(int datasetId, CancellationToken ct = default);

    /// <summary>The series and instance UIDs a frozen version lists (null for an unknown version), and its label.</summary>
    Task<(string Label, IReadOnlyList<string> SeriesUids, IReadOnlySet<string> InstanceUids)?> VersionContentAsync(long versionId, CancellationToken ct = default);
}

public sealed class DatasetQueries(IDbContextFactory<KaapanaDbContext> dbFactory) : IDatasetQueries
{
    public Task<DatasetDetail?> GetAsync(int datasetId, CancellationToken ct = default) => GetAsync(datasetId, null, ct);

    public async Task<DatasetDetail?> GetAsync(int datasetId, int[]? projects, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Datasets.AsNoTracking().InProjects(projects).Where(d => d.Id == datasetId)
            .Select(d => new DatasetDetail(d.Id, d.ProjectId, db.Projects.Where(p => p.Id == d.ProjectId).Select(p => p.Name).First(), d.Name, d.Description, d.CreatedAt,
                db.DatasetSeries.Count(x => x.DatasetId == d.Id),
                db.DatasetSeries.Where(x => x.DatasetId == d.Id).Sum(x => (long?)x.Series.NumberOfInstances) ?? 0,
                db.DatasetSeries.Where(x => x.DatasetId == d.Id).Sum(x => (long?)x.Series.TotalSize) ?? 0))
            .FirstOrDefaultAsync(ct);
    }

    public async Task<IReadOnlyList<DatasetVersionRow>> VersionsAsync(int datasetId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.DatasetVersions.AsNoTracking().Where(v => v.DatasetId == datasetId).OrderByDescending(v => v.Number)
            .Select(v => new DatasetVersionRow(v.Id, v.Number, v.CreatedAt, v.Note, v.InstanceCount, v.UidListHash)).ToListAsync(ct);
    }

    public async Task<(string Label, IReadOnlyList<string> SeriesUids, IReadOnlySet<string> InstanceUids)?> VersionContentAsync(long versionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var v = await db.DatasetVersions.AsNoTracking().Where(x => x.Id == versionId).Select(x => new { x.DatasetName, x.Number }).FirstOrDefaultAsync(ct);
        if (v is null) return null;
        var items = await db.DatasetVersionItems.AsNoTracking().Where(i => i.DatasetVersionId == versionId)
            .Select(i => new { i.SeriesInstanceUID, i.SOPInstanceUID }).ToListAsync(ct);
        return ($"{v.DatasetName}-v{v.Number}", items.Select(i => i.SeriesInstanceUID).Distinct(StringComparer.Ordinal).ToList(),
            items.Select(i => i.SOPInstanceUID).ToHashSet(StringComparer.Ordinal));
    }
}
