using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Index;

public sealed record SeriesSearch(
    string? Project = null, int? DatasetId = null, string? Modality = null, string? PatientID = null,
    string? StudyInstanceUID = null, string? Text = null, int Offset = 0, int Limit = 100);

public sealed record SeriesSummary(
    string SeriesInstanceUID, string StudyInstanceUID, string PatientID, string? PatientName, string? Modality,
    int? SeriesNumber, string? SeriesDescription, string? BodyPartExamined, string? StudyDate, int NumberOfInstances,
    long TotalSize, bool IsComplete);

public sealed record Page<T>(int Total, int Offset, IReadOnlyList<T> Items);

public sealed record DatasetSummary(int Id, string Name, string? Description, DateTime CreatedAt, int SeriesCount, int InstanceCount, long TotalSize);

/// <summary>
/// Read side of the index for the REST API and UI: paged, filtered, never loading a whole table.
/// Project scoping lives here so the access issue can add the caller's identity in one place.
/// </summary>
public interface IArchiveQueries
{
    Task<Page<SeriesSummary>> SearchSeriesAsync(SeriesSearch search, CancellationToken ct = default);
    Task<IReadOnlyList<DatasetSummary>> ListDatasetsAsync(int projectId, CancellationToken ct = default);
}

public sealed class ArchiveQueries(IDbContextFactory<KaapanaDbContext> dbFactory) : IArchiveQueries
{
    public const int MaxLimit = 1000;

    public async Task<Page<SeriesSummary>> SearchSeriesAsync(SeriesSearch s, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        IQueryable<Series> q = db.Series.AsNoTracking();
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
}
