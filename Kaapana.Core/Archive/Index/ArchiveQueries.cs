using Kaapana.Core.Access;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Index;

public sealed record SeriesSearch(
    string? Project = null, int? DatasetId = null, string? Modality = null, string? PatientID = null,
    string? StudyInstanceUID = null, string? Text = null, int Offset = 0, int Limit = 100, int[]? ProjectScope = null);

public sealed record SeriesSummary(
    string SeriesInstanceUID, string StudyInstanceUID, string PatientID, string? PatientName, string? Modality,
    int? SeriesNumber, string? SeriesDescription, string? BodyPartExamined, string? StudyDate, int NumberOfInstances,
    long TotalSize, bool IsComplete);

public sealed record Page<T>(int Total, int Offset, IReadOnlyList<T> Items);

/// <summary>
/// A list of series UIDs sorted by what a caller may do with them: <see cref="Permitted"/> (the permission through some
/// project; for <see cref="ProjectPermission.Manage"/> through every project of the series), <see cref="VisibleOnly"/> (readable
/// but not permitted: a write answers 403). UIDs in neither are invisible or do not exist, which the caller must not tell apart.
/// </summary>
public sealed record SeriesAccess(IReadOnlyList<string> Permitted, IReadOnlyList<string> VisibleOnly);

public sealed record DatasetSummary(int Id, string Name, string? Description, DateTime CreatedAt, int SeriesCount, int InstanceCount, long TotalSize);

/// <summary>
/// Read side of the index for the REST API and UI: paged, filtered, never loading a whole table.
/// Project scoping lives here so the access issue can add the caller's identity in one place.
/// </summary>
public interface IArchiveQueries
{
    Task<Page<SeriesSummary>> SearchSeriesAsync(SeriesSearch search, CancellationToken ct = default);
    Task<IReadOnlyList<DatasetSummary>> ListDatasetsAsync(int projectId, CancellationToken ct = default);

    /// <summary>The datasets of a project the caller can read; null when the project does not exist or is not visible (the same answer).</summary>
    Task<IReadOnlyList<DatasetSummary>?> ListDatasetsAsync(AccessScope scope, string project, CancellationToken ct = default);

    /// <summary>Sorts <paramref name="seriesUids"/> by what <paramref name="scope"/> may do with each (see <see cref="SeriesAccess"/>).</summary>
    Task<SeriesAccess> ClassifySeriesAsync(AccessScope scope, IEnumerable<string> seriesUids, ProjectPermission permission, CancellationToken ct = default);
}

public sealed class ArchiveQueries(IDbContextFactory<KaapanaDbContext> dbFactory) : IArchiveQueries
{
    public const int MaxLimit = 1000;

    public async Task<Page<SeriesSummary>> SearchSeriesAsync(SeriesSearch s, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        IQueryable<Series> q = db.Series.AsNoTracking().InProjects(db, s.ProjectScope);
        if (!string.IsNullOrWhiteSpace(s.Project))
        {
            var projectId = await db.Projects.Where(p => p.Name == s.Project).Select(p => (int?)p.Id).FirstOrDefaultAsync(ct);
            if (projectId is null) return new Page<SeriesSummary>(0, s.Offset, []);
            q = q.Where(x => db.ProjectSeries.Any(ps => ps.ProjectId == projectId && ps.SeriesId == x.Id));
        }
        if (s.DatasetId is { } datasetId)
            q = q.Where(x => db.DatasetSeries.Any(ds => ds.DatasetId == datasetId && ds.SeriesId == x.Id));
        if (!string.IsNullOrWhiteSpace(s.Modality)) q = q.Where(x => x.Modality == s.Modality);
        if (!string.IsNullOrWhiteSpace(s.PatientID)) q = q.Where(x => x.Study.Patient.PatientID == s.PatientID);
        if (!string.IsNullOrWhiteSpace(s.StudyInstanceUID)) q = q.Where(x => x.Study.StudyInstanceUID == s.StudyInstanceUID);
        if (!string.IsNullOrWhiteSpace(s.Text))
        {
            var pattern = $"%{s.Text.Trim()}%";
            q = q.Where(x => EF.Functions.Like(x.SeriesDescription ?? "", pattern)
                || EF.Functions.Like(x.Study.StudyDescription ?? "", pattern)
                || EF.Functions.Like(x.Study.Patient.PatientName ?? "", pattern)
                || EF.Functions.Like(x.Study.Patient.PatientID, pattern));
        }
        int total = await q.CountAsync(ct);
        var items = await q
            .OrderByDescending(x => x.Study.StudyDate).ThenBy(x => x.Study.StudyInstanceUID).ThenBy(x => x.SeriesNumber).ThenBy(x => x.Id)
            .Skip(Math.Max(0, s.Offset)).Take(Math.Clamp(s.Limit, 1, MaxLimit))
            .Select(x => new SeriesSummary(x.SeriesInstanceUID, x.Study.StudyInstanceUID, x.Study.Patient.PatientID, x.Study.Patient.PatientName,
                x.Modality, x.SeriesNumber, x.SeriesDescription, x.BodyPartExamined, x.Study.StudyDate, x.NumberOfInstances, x.TotalSize, x.IsComplete))
            .ToListAsync(ct);
        return new Page<SeriesSummary>(total, s.Offset, items);
    }

    public async Task<IReadOnlyList<DatasetSummary>> ListDatasetsAsync(int projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Datasets.AsNoTracking().Where(d => d.ProjectId == projectId).OrderBy(d => d.Name)
            .Select(d => new DatasetSummary(d.Id, d.Name, d.Description, d.CreatedAt,
                db.DatasetSeries.Count(x => x.DatasetId == d.Id),
                db.DatasetSeries.Where(x => x.DatasetId == d.Id).Sum(x => (int?)x.Series.NumberOfInstances) ?? 0,
                db.DatasetSeries.Where(x => x.DatasetId == d.Id).Sum(x => (long?)x.Series.TotalSize) ?? 0))
            .ToListAsync(ct);
    }

    public async Task<IReadOnlyList<DatasetSummary>?> ListDatasetsAsync(AccessScope scope, string project, CancellationToken ct = default)
    {
        int? projectId;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            projectId = await db.Projects.Where(p => p.Name == project).Select(p => (int?)p.Id).FirstOrDefaultAsync(ct);
        // A dataset holds only series of its own project (adding one links it there), so its counts show nothing of other projects.
        return projectId is { } id && scope.Can(id, ProjectPermission.Read) ? await ListDatasetsAsync(id, ct) : null;
    }

    public async Task<SeriesAccess> ClassifySeriesAsync(AccessScope scope, IEnumerable<string> seriesUids, ProjectPermission permission, CancellationToken ct = default)
    {
        var uids = seriesUids.Where(u => !string.IsNullOrWhiteSpace(u)).Select(u => u.Trim()).Distinct(StringComparer.Ordinal).ToList();
        List<string> permitted = [], visibleOnly = [];
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var chunk in uids.Chunk(500))
        {
            var links = await db.ProjectSeries.AsNoTracking().Where(ps => chunk.Contains(ps.Series.SeriesInstanceUID))
                .Select(ps => new { ps.Series.SeriesInstanceUID, ps.ProjectId }).ToListAsync(ct);
            foreach (var g in links.GroupBy(l => l.SeriesInstanceUID, StringComparer.Ordinal))
            {
                var projects = g.Select(l => l.ProjectId).ToList();
                if (!scope.CanAny(projects, ProjectPermission.Read)) continue;
                // Deleting takes the series from every project holding it, so Manage must hold in each.
                bool ok = permission == ProjectPermission.Manage ? projects.All(p => scope.Can(p, permission)) : scope.CanAny(projects, permission);
                (ok ? permitted : visibleOnly).Add(g.Key);
            }
        }
        return new SeriesAccess(permitted, visibleOnly);
    }
}
