using Kaapana.Core.Archive.Index;

namespace Kaapana.Core.Access;

/// <summary>
/// Index rows narrowed to a scope's projects (<see cref="AccessScope.ProjectsWith"/>: null = every project). A study or
/// patient is visible through any visible series of it; query services apply these, endpoints never filter on their own.
/// </summary>
public static class ScopedIndex
{
    public static IQueryable<Series> InProjects(this IQueryable<Series> series, KaapanaDbContext db, int[]? projects) =>
        projects is null ? series : series.Where(s => db.ProjectSeries.Any(ps => ps.SeriesId == s.Id && projects.Contains(ps.ProjectId)));

    public static IQueryable<Study> InProjects(this IQueryable<Study> studies, KaapanaDbContext db, int[]? projects) =>
        projects is null ? studies : studies.Where(st => db.ProjectSeries.Any(ps => ps.Series.StudyId == st.Id && projects.Contains(ps.ProjectId)));

    public static IQueryable<Instance> InProjects(this IQueryable<Instance> instances, KaapanaDbContext db, int[]? projects) =>
        projects is null ? instances : instances.Where(i => db.ProjectSeries.Any(ps => ps.SeriesId == i.SeriesId && projects.Contains(ps.ProjectId)));

    /// <summary>The project of that name when the scope may read it; otherwise null, exactly as for a project that does not exist.</summary>
    public static async Task<Project?> FindVisibleProjectAsync(this Archive.Projects.IProjectCatalog catalog, string name, AccessScope scope,
        CancellationToken ct = default) =>
        await catalog.FindProjectAsync(name, ct).ConfigureAwait(false) is { } p && scope.Can(p.Id, ProjectPermission.Read) ? p : null;

    public static IQueryable<Dataset> InProjects(this IQueryable<Dataset> datasets, int[]? projects) =>
        projects is null ? datasets : datasets.Where(d => projects.Contains(d.ProjectId));
}
