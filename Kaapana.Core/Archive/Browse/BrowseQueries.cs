using System.Linq.Expressions;
using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Browse;

/// <summary>One row of the data browser.</summary>
public sealed record BrowseRow(
    string SeriesInstanceUID, string StudyInstanceUID, string PatientID, string? PatientName, string? StudyDate, string? StudyDescription,
    string? Modality, int? SeriesNumber, string? SeriesDescription, string? BodyPartExamined, int NumberOfInstances, long TotalSize,
    DateTime CreatedAt, bool IsComplete);

/// <summary>A facet value and how many series of the current selection carry it.</summary>
public sealed record FacetCount(string Value, int Count);

/// <summary>A keyword the filter names that the index cannot answer.</summary>
public sealed class UnknownKeywordException(string keyword)
    : ArgumentException($"'{keyword}' is not a DICOM keyword the index can filter on (public, non-sequence, series level).")
{
    public string Keyword { get; } = keyword;
}

/// <summary>
/// Read side of the data browser: filtered, sorted pages of series and facet counts, all computed in SQL over the index
/// (project membership, columns and <see cref="SeriesAttribute"/> rows), never by loading series into memory. Every method
/// takes the caller's visible projects (<see cref="AccessScope.ProjectsWith"/> for Read: null = every project, empty = none)
/// and answers only from series of those projects; a filter naming an invisible project matches nothing, like an unknown one.
/// </summary>
public interface IBrowseQueries
{
    /// <summary>Number of series matching <paramref name="filter"/> (0 for an unknown project).</summary>
    Task<int> CountAsync(BrowseFilter filter, int[]? projects, CancellationToken ct = default);

    Task<IReadOnlyList<BrowseRow>> PageAsync(BrowseFilter filter, int[]? projects, int offset, int limit, CancellationToken ct = default);

    /// <summary>
    /// The most frequent values of <paramref name="keyword"/> among the series matching the filter without its own values
    /// for that keyword (so choosing one value keeps the others visible for OR). <paramref name="contains"/> narrows the values.
    /// </summary>
    Task<IReadOnlyList<FacetCount>> FacetAsync(BrowseFilter filter, int[]? projects, string keyword, string? contains = null, int limit = 20, CancellationToken ct = default);

    /// <summary>UIDs of the rows <paramref name="offset"/>… in the filter's order (a shift-click range), at most <see cref="BrowseQueries.MaxRange"/>.</summary>
    Task<IReadOnlyList<string>> SeriesUidsAsync(BrowseFilter filter, int[]? projects, int offset, int limit, CancellationToken ct = default);

    /// <summary>Every matching series UID, in chunks (by row id, not by offset), so acting on 100,000 series never holds them all.</summary>
    IAsyncEnumerable<IReadOnlyList<string>> SeriesUidChunksAsync(BrowseFilter filter, int[]? projects, int chunkSize = 1000, CancellationToken ct = default);

    /// <summary>Series, instances and bytes matching the filter (what a delete or an export would touch).</summary>
    Task<SelectionTotals> TotalsAsync(BrowseFilter filter, int[]? projects, CancellationToken ct = default);

    /// <summary>Series, instances and bytes of the named series (UIDs not in the index or not visible do not count).</summary>
    Task<SelectionTotals> TotalsAsync(IReadOnlyCollection<string> seriesUids, int[]? projects, CancellationToken ct = default);

    /// <summary>The newest series row id (0 when empty): a cheap "did anything arrive" probe for live updates.</summary>
    Task<long> LatestSeriesIdAsync(int[]? projects, CancellationToken ct = default);
}

/// <summary>Sizes of a set of series.</summary>
public sealed record SelectionTotals(int Series, long Instances, long Bytes);

public sealed class BrowseQueries(IDbContextFactory<KaapanaDbContext> dbFactory) : IBrowseQueries
{
    public const int MaxLimit = 500;

    /// <summary>The largest shift-click range resolved at once.</summary>
    public const int MaxRange = 20_000;

    public async Task<IReadOnlyList<string>> SeriesUidsAsync(BrowseFilter filter, int[]? projects, int offset, int limit, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var q = await FilterAsync(db, filter, projects, ct).ConfigureAwait(false);
        if (q is null || limit <= 0) return [];
        return await Order(q, filter).Skip(Math.Max(0, offset)).Take(Math.Min(limit, MaxRange)).Select(x => x.SeriesInstanceUID)
            .ToListAsync(ct).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<IReadOnlyList<string>> SeriesUidChunksAsync(BrowseFilter filter, int[]? projects, int chunkSize = 1000,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        chunkSize = Math.Clamp(chunkSize, 1, 10_000);
        long after = 0;
        while (true)
        {
            List<(long Id, string Uid)> rows;
            // A context per chunk: the caller may write between chunks (tags, datasets), and SQLite readers should not linger.
            await using (var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false))
            {
                var q = await FilterAsync(db, filter, projects, ct).ConfigureAwait(false);
                if (q is null) yield break;
                long from = after;
                rows = (await q.Where(x => x.Id > from).OrderBy(x => x.Id).Take(chunkSize).Select(x => new { x.Id, x.SeriesInstanceUID })
                    .ToListAsync(ct).ConfigureAwait(false)).Select(r => (r.Id, r.SeriesInstanceUID)).ToList();
            }
            if (rows.Count == 0) yield break;
            after = rows[^1].Id;
            yield return rows.Select(r => r.Uid).ToList();
            if (rows.Count < chunkSize) yield break;
        }
    }

    public async Task<SelectionTotals> TotalsAsync(BrowseFilter filter, int[]? projects, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var q = await FilterAsync(db, filter, projects, ct).ConfigureAwait(false);
        if (q is null) return new SelectionTotals(0, 0, 0);
        var t = await q.GroupBy(_ => 1).Select(g => new { Series = g.Count(), Instances = g.Sum(x => (long)x.NumberOfInstances), Bytes = g.Sum(x => x.TotalSize) })
            .FirstOrDefaultAsync(ct).ConfigureAwait(false);
        return t is null ? new SelectionTotals(0, 0, 0) : new SelectionTotals(t.Series, t.Instances, t.Bytes);
    }

    public async Task<SelectionTotals> TotalsAsync(IReadOnlyCollection<string> seriesUids, int[]? projects, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        int series = 0;
        long instances = 0, bytes = 0;
        foreach (var chunk in seriesUids.Distinct(StringComparer.Ordinal).Chunk(500))
        {
            var rows = await db.Series.AsNoTracking().InProjects(db, projects).Where(x => chunk.Contains(x.SeriesInstanceUID))
                .Select(x => new { x.NumberOfInstances, x.TotalSize }).ToListAsync(ct).ConfigureAwait(false);
            series += rows.Count;
            instances += rows.Sum(r => (long)r.NumberOfInstances);
            bytes += rows.Sum(r => r.TotalSize);
        }
        return new SelectionTotals(series, instances, bytes);
    }

    public async Task<long> LatestSeriesIdAsync(int[]? projects, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        return await db.Series.InProjects(db, projects).MaxAsync(x => (long?)x.Id, ct).ConfigureAwait(false) ?? 0;
    }

    public async Task<int> CountAsync(BrowseFilter filter, int[]? projects, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var q = await FilterAsync(db, filter, projects, ct).ConfigureAwait(false);
        return q is null ? 0 : await q.CountAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<BrowseRow>> PageAsync(BrowseFilter filter, int[]? projects, int offset, int limit, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var q = await FilterAsync(db, filter, projects, ct).ConfigureAwait(false);
        if (q is null) return [];
        return await Order(q, filter)
            .Skip(Math.Max(0, offset)).Take(Math.Clamp(limit, 1, MaxLimit))
            .Select(x => new BrowseRow(x.SeriesInstanceUID, x.Study.StudyInstanceUID, x.Study.Patient.PatientID, x.Study.Patient.PatientName,
                x.Study.StudyDate, x.Study.StudyDescription, x.Modality, x.SeriesNumber, x.SeriesDescription, x.BodyPartExamined,
                x.NumberOfInstances, x.TotalSize, x.CreatedAt, x.IsComplete))
            .ToListAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<FacetCount>> FacetAsync(BrowseFilter filter, int[]? projects, string keyword, string? contains = null, int limit = 20, CancellationToken ct = default)
    {
        var source = BrowseKeywords.Resolve(keyword) ?? throw new UnknownKeywordException(keyword);
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var q = await FilterAsync(db, filter.ForFacet(keyword), projects, ct).ConfigureAwait(false);
        if (q is null) return [];
        limit = Math.Clamp(limit, 1, MaxLimit);
        contains = string.IsNullOrWhiteSpace(contains) ? null : contains.Trim();
        IQueryable<string?> values;
        if (source.IsTag)
        {
            var ids = q.Select(x => x.Id);
            values = db.SeriesTags.Where(t => ids.Contains(t.SeriesId)).Select(t => (string?)t.Tag);
        }
        else if (source.Column is { } column)
        {
            values = q.Select(column);
        }
        else
        {
            int tag = source.AttributeTag!.Value;
            // The tag's rows of the filtered id set (a semi-join): SQLite builds the set once, then probes (SeriesId, Tag) per
            // member, rather than a scan of every row of the tag.
            var ids = q.Select(x => x.Id);
            values = db.SeriesAttributes.Where(a => a.Tag == tag && ids.Contains(a.SeriesId)).Select(a => (string?)a.Value);
        }
        values = values.Where(v => v != null && v != "");
        if (contains is not null) values = values.Where(v => v!.Contains(contains));
        var rows = await values.GroupBy(v => v).Select(g => new { Value = g.Key!, Count = g.Count() })
            .OrderByDescending(g => g.Count).ThenBy(g => g.Value).Take(limit)
            .ToListAsync(ct).ConfigureAwait(false);
        return rows.Select(r => new FacetCount(r.Value, r.Count)).ToList();
    }

    /// <summary>The filtered series query over every project (the server's own matching, e.g. trigger rules).</summary>
    internal static Task<IQueryable<Series>?> FilterAsync(KaapanaDbContext db, BrowseFilter f, CancellationToken ct) => FilterAsync(db, f, null, ct);

    /// <summary>
    /// The filtered series query within <paramref name="projects"/> (null = every project), or null when the filter names a
    /// project or dataset that does not exist or is not visible (both answer alike: nothing).
    /// </summary>
    internal static async Task<IQueryable<Series>?> FilterAsync(KaapanaDbContext db, BrowseFilter f, int[]? projects, CancellationToken ct)
    {
        IQueryable<Series> q = db.Series.AsNoTracking();
        if (projects is { Length: 0 }) return null;
        if (!string.IsNullOrWhiteSpace(f.Project))
        {
            var projectId = await db.Projects.Where(p => p.Name == f.Project).Select(p => (int?)p.Id).FirstOrDefaultAsync(ct).ConfigureAwait(false);
            if (projectId is null || (projects is not null && !projects.Contains(projectId.Value))) return null;
            q = q.Where(x => db.ProjectSeries.Any(ps => ps.ProjectId == projectId && ps.SeriesId == x.Id));
        }
        else
        {
            q = q.InProjects(db, projects);
        }
        if (f.Dataset is { } datasetId)
        {
            // A dataset of an invisible project matches nothing, even where its series are visible through another project.
            var datasetProject = await db.Datasets.Where(d => d.Id == datasetId).Select(d => (int?)d.ProjectId).FirstOrDefaultAsync(ct).ConfigureAwait(false);
            if (datasetProject is null || (projects is not null && !projects.Contains(datasetProject.Value))) return null;
            q = q.Where(x => db.DatasetSeries.Any(ds => ds.DatasetId == datasetId && ds.SeriesId == x.Id));
        }
        foreach (var (keyword, values) in f.Facets)
        {
            var source = BrowseKeywords.Resolve(keyword) ?? throw new UnknownKeywordException(keyword);
            var list = values.ToList();
            if (source.IsTag)
            {
                var tagged = db.SeriesTags.Where(t => list.Contains(t.Tag)).Select(t => t.SeriesId);
                q = q.Where(x => tagged.Contains(x.Id));
            }
            else if (source.Column is { } column)
            {
                // x => list.Contains(column(x)), with the list read from a closure (not an Expression.Constant): EF then sends
                // the values as parameters and reuses the compiled query, instead of compiling anew for every set of values.
                Expression<Func<List<string>>> listRef = () => list;
                var contains = Expression.Call(typeof(Enumerable), nameof(Enumerable.Contains), [typeof(string)], listRef.Body, column.Body);
                q = q.Where(Expression.Lambda<Func<Series, bool>>(contains, column.Parameters));
            }
            else
            {
                int tag = source.AttributeTag!.Value;
                // "Id IN (matching attribute rows)", not a correlated EXISTS: SQLite builds the set once from the (Tag, Value)
                // index instead of fetching an attribute row per candidate series (half the CPU at 100,000 series).
                var matching = db.SeriesAttributes.Where(a => a.Tag == tag && list.Contains(a.Value)).Select(a => a.SeriesId);
                q = q.Where(x => matching.Contains(x.Id));
            }
        }
        if (f.StudyDateFrom is { } from) q = q.Where(x => string.Compare(x.Study.StudyDate, from) >= 0);
        if (f.StudyDateTo is { } to) q = q.Where(x => string.Compare(x.Study.StudyDate, to) <= 0);
        if (f.ArrivedOn is { } day)
        {
            var start = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            var end = start.AddDays(1);
            q = q.Where(x => x.CreatedAt >= start && x.CreatedAt < end);
        }
        if (!string.IsNullOrWhiteSpace(f.Text))
        {
            var text = f.Text.Trim();
            var pattern = "%" + text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
            q = q.Where(x => EF.Functions.Like(x.SeriesDescription ?? "", pattern, "\\")
                || EF.Functions.Like(x.Study.StudyDescription ?? "", pattern, "\\")
                || EF.Functions.Like(x.Study.Patient.PatientName ?? "", pattern, "\\")
                || EF.Functions.Like(x.Study.Patient.PatientID, pattern, "\\")
                || EF.Functions.Like(x.Study.AccessionNumber ?? "", pattern, "\\")
                || x.SeriesInstanceUID == text || x.Study.StudyInstanceUID == text);
        }
        return q;
    }

    private static IQueryable<Series> Order(IQueryable<Series> q, BrowseFilter f)
    {
        bool d = f.Descending;
        return f.Sort switch
        {
            BrowseSort.Patient => q.OrderBy(x => x.Study.Patient.PatientName).ThenBy(x => x.Study.Patient.PatientID)
                .ThenBy(x => x.Study.StudyDate).ThenBy(x => x.Study.StudyInstanceUID).ThenBy(x => x.SeriesNumber).ThenBy(x => x.Id),
            BrowseSort.Arrival => d ? q.OrderByDescending(x => x.Id) : q.OrderBy(x => x.Id),
            BrowseSort.Modality => (d ? q.OrderByDescending(x => x.Modality) : q.OrderBy(x => x.Modality)).ThenBy(x => x.Id),
            BrowseSort.SeriesDescription => (d ? q.OrderByDescending(x => x.SeriesDescription) : q.OrderBy(x => x.SeriesDescription)).ThenBy(x => x.Id),
            BrowseSort.Instances => (d ? q.OrderByDescending(x => x.NumberOfInstances) : q.OrderBy(x => x.NumberOfInstances)).ThenBy(x => x.Id),
            // Study date, then the study's series together in series order, so the table groups by study.
            _ => (d ? q.OrderByDescending(x => x.Study.StudyDate) : q.OrderBy(x => x.Study.StudyDate))
                .ThenBy(x => x.Study.StudyInstanceUID).ThenBy(x => x.SeriesNumber).ThenBy(x => x.Id),
        };
    }
}
