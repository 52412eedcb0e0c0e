using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Projects;

/// <summary>Where an ingest files its series.</summary>
public sealed record IngestTarget(int ProjectId, int? DatasetId);

/// <summary>
/// Projects, datasets, frozen dataset versions and receiving endpoints: the curation commands over the index. Series
/// get into projects by ingest (through the context or the called AE) or by <see cref="AddSeriesToProjectAsync"/>.
/// </summary>
public interface IProjectCatalog
{
    Task<Project> CreateProjectAsync(string name, string? description = null, CancellationToken ct = default);
    Task<Project?> FindProjectAsync(string name, CancellationToken ct = default);
    Task<IReadOnlyList<Project>> ListProjectsAsync(CancellationToken ct = default);

    /// <summary>Adds series (by UID) to a project; UIDs not in the index are ignored. Returns how many links were added.</summary>
    Task<int> AddSeriesToProjectAsync(int projectId, IEnumerable<string> seriesInstanceUids, CancellationToken ct = default);

    Task<Dataset> CreateDatasetAsync(int projectId, string name, string? description = null, CancellationToken ct = default);
    Task<Dataset?> FindDatasetAsync(int projectId, string name, CancellationToken ct = default);

    /// <summary>Adds series (by UID) to a dataset; they join the dataset's project too. Returns how many were added.</summary>
    Task<int> AddSeriesToDatasetAsync(int datasetId, IEnumerable<string> seriesInstanceUids, CancellationToken ct = default);

    Task<int> RemoveSeriesFromDatasetAsync(int datasetId, IEnumerable<string> seriesInstanceUids, CancellationToken ct = default);

    /// <summary>Series UIDs currently in a dataset.</summary>
    Task<IReadOnlyList<string>> GetDatasetSeriesAsync(int datasetId, CancellationToken ct = default);

    /// <summary>Deletes the dataset and its membership list. Never deletes series or files; its versions stay (without a dataset).</summary>
    Task<bool> DeleteDatasetAsync(int datasetId, CancellationToken ct = default);

    /// <summary>Freezes the dataset's current instances as a new immutable version (numbered 1, 2, ... per dataset).</summary>
    Task<DatasetVersion> FreezeAsync(int datasetId, string? note = null, CancellationToken ct = default);

    /// <summary>A version with its items (sorted by SOP Instance UID).</summary>
    Task<DatasetVersion?> GetVersionAsync(long versionId, CancellationToken ct = default);

    /// <summary>Maps a called AE title to a project (and dataset), replacing an existing mapping of that title.</summary>
    Task<ReceivingEndpoint> SetReceivingEndpointAsync(string aeTitle, int projectId, int? datasetId = null, string? description = null, CancellationToken ct = default);

    /// <summary>The endpoint of a called AE title, or null when none is configured (the SCP may refuse such associations).</summary>
    Task<ReceivingEndpoint?> FindReceivingEndpointAsync(string aeTitle, CancellationToken ct = default);

    /// <summary>Every receiving endpoint, by AE title.</summary>
    Task<IReadOnlyList<ReceivingEndpointInfo>> ListReceivingEndpointsAsync(CancellationToken ct = default);

    /// <summary>
    /// Adds (<paramref name="mustBeNew"/>) or changes the endpoint of an AE title, after checking the AE title rules, that the
    /// project exists and the dataset belongs to it. The receiver answers the change at once.
    /// </summary>
    /// <exception cref="CatalogValidationException">A rule is broken, or <paramref name="mustBeNew"/> and the AE title is taken.</exception>
    Task<ReceivingEndpointInfo> SaveReceivingEndpointAsync(string aeTitle, int projectId, int? datasetId, string? description, bool mustBeNew,
        CancellationToken ct = default);

    /// <summary>Removes the endpoint; data sent to that AE title afterwards is refused (or goes to the default project). Existing data stays.</summary>
    Task<bool> DeleteReceivingEndpointAsync(string aeTitle, CancellationToken ct = default);

    /// <summary>Projects with their series/instance counts and size.</summary>
    Task<IReadOnlyList<ProjectSummary>> ListProjectSummariesAsync(CancellationToken ct = default);

    Task<bool> UpdateProjectDescriptionAsync(int projectId, string? description, CancellationToken ct = default);

    /// <summary>Deletes a project only when it holds no series and no runs (its datasets, empty then, and endpoints go with it).</summary>
    Task<ProjectDeleteOutcome> DeleteProjectAsync(int projectId, CancellationToken ct = default);

    /// <summary>
    /// Where an ingest goes: the context's project (and dataset) by name, else the receiving endpoint of its called AE, else
    /// the default project. Null with a reason when a named project or dataset does not exist.
    /// </summary>
    ValueTask<(IngestTarget? Target, string? Error)> ResolveIngestTargetAsync(IngestContext context, CancellationToken ct = default);

    /// <summary>SHA-256 (hex) over sorted UIDs, each followed by '\n': the hash of a dataset version's list.</summary>
    static string HashUidList(IEnumerable<string> sortedUids)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var uid in sortedUids)
        {
            sha.AppendData(Encoding.ASCII.GetBytes(uid));
            sha.AppendData("\n"u8);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

public sealed class ProjectCatalog(IDbContextFactory<KaapanaDbContext> dbFactory, IOptions<KaapanaOptions> options, ILogger<ProjectCatalog> logger,
    IEnumerable<IReceivingEndpointObserver> endpointObservers) : IProjectCatalog
{
    private readonly ArchiveOptions _options = options.Value.Archive;

    // Resolution happens on every ingest; projects and endpoints change rarely. Cleared by every change made here.
    private readonly ConcurrentDictionary<string, IngestTarget?> _byProject = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IngestTarget?> _byCalledAE = new(StringComparer.Ordinal);

    private void Invalidate()
    {
        _byProject.Clear();
        _byCalledAE.Clear();
    }

    public async Task<Project> CreateProjectAsync(string name, string? description = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Projects.AnyAsync(p => p.Name == name.Trim(), ct)) throw new CatalogValidationException($"A project named '{name.Trim()}' exists already.");
        var project = new Project { Name = name.Trim(), Description = description, CreatedAt = DateTime.UtcNow };
        db.Projects.Add(project);
        await db.SaveChangesAsync(ct);
        Invalidate();
        return project;
    }

    public async Task<Project?> FindProjectAsync(string name, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Name == name, ct);
    }

    public async Task<IReadOnlyList<Project>> ListProjectsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Projects.AsNoTracking().OrderBy(p => p.Name).ToListAsync(ct);
    }

    public async Task<int> AddSeriesToProjectAsync(int projectId, IEnumerable<string> seriesInstanceUids, CancellationToken ct = default)
    {
        var uids = seriesInstanceUids.Distinct().ToList();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        int added = await LinkProjectAsync(db, projectId, uids, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return added;
    }

    private static async Task<int> LinkProjectAsync(KaapanaDbContext db, int projectId, List<string> uids, CancellationToken ct)
    {
        var ids = await db.Series.Where(s => uids.Contains(s.SeriesInstanceUID)).Select(s => s.Id).ToListAsync(ct);
        var linked = (await db.ProjectSeries.Where(l => l.ProjectId == projectId && ids.Contains(l.SeriesId)).Select(l => l.SeriesId).ToListAsync(ct)).ToHashSet();
        var now = DateTime.UtcNow;
        var added = ids.Where(id => !linked.Contains(id)).ToList();
        db.ProjectSeries.AddRange(added.Select(id => new ProjectSeries { ProjectId = projectId, SeriesId = id, AddedAt = now }));
        return added.Count;
    }

    public async Task<Dataset> CreateDatasetAsync(int projectId, string name, string? description = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var dataset = new Dataset { ProjectId = projectId, Name = name.Trim(), Description = description, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(ct);
        Invalidate();
        return dataset;
    }

    public async Task<Dataset?> FindDatasetAsync(int projectId, string name, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.ProjectId == projectId && d.Name == name, ct);
    }

    public async Task<int> AddSeriesToDatasetAsync(int datasetId, IEnumerable<string> seriesInstanceUids, CancellationToken ct = default)
    {
        var uids = seriesInstanceUids.Distinct().ToList();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == datasetId, ct)
            ?? throw new KeyNotFoundException($"No dataset {datasetId}.");
        await LinkProjectAsync(db, dataset.ProjectId, uids, ct);
        var ids = await db.Series.Where(s => uids.Contains(s.SeriesInstanceUID)).Select(s => s.Id).ToListAsync(ct);
        var present = (await db.DatasetSeries.Where(l => l.DatasetId == datasetId && ids.Contains(l.SeriesId)).Select(l => l.SeriesId).ToListAsync(ct)).ToHashSet();
        var now = DateTime.UtcNow;
        var added = ids.Where(id => !present.Contains(id)).ToList();
        db.DatasetSeries.AddRange(added.Select(id => new DatasetSeries { DatasetId = datasetId, SeriesId = id, AddedAt = now }));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return added.Count;
    }

    public async Task<int> RemoveSeriesFromDatasetAsync(int datasetId, IEnumerable<string> seriesInstanceUids, CancellationToken ct = default)
    {
        var uids = seriesInstanceUids.Distinct().ToList();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.DatasetSeries.Where(l => l.DatasetId == datasetId && uids.Contains(l.Series.SeriesInstanceUID)).ExecuteDeleteAsync(ct);
    }

    public async Task<IReadOnlyList<string>> GetDatasetSeriesAsync(int datasetId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.DatasetSeries.AsNoTracking().Where(l => l.DatasetId == datasetId).Select(l => l.Series.SeriesInstanceUID).OrderBy(u => u).ToListAsync(ct);
    }

    public async Task<bool> DeleteDatasetAsync(int datasetId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Explicit rather than by cascade, so a provider without foreign key actions behaves the same.
        await db.DatasetSeries.Where(l => l.DatasetId == datasetId).ExecuteDeleteAsync(ct);
        await db.DatasetVersions.Where(v => v.DatasetId == datasetId).ExecuteUpdateAsync(u => u.SetProperty(v => v.DatasetId, (int?)null), ct);
        await db.ReceivingEndpoints.Where(e => e.DatasetId == datasetId).ExecuteUpdateAsync(u => u.SetProperty(e => e.DatasetId, (int?)null), ct);
        int deleted = await db.Datasets.Where(d => d.Id == datasetId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        Invalidate();
        return deleted > 0;
    }

    public async Task<DatasetVersion> FreezeAsync(int datasetId, string? note = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == datasetId, ct)
            ?? throw new KeyNotFoundException($"No dataset {datasetId}.");
        var items = await db.Instances.AsNoTracking()
            .Where(i => db.DatasetSeries.Any(l => l.DatasetId == datasetId && l.SeriesId == i.SeriesId))
            .Select(i => new { i.Series.Study.StudyInstanceUID, i.Series.SeriesInstanceUID, i.SOPInstanceUID })
            .ToListAsync(ct);
        items.Sort((a, b) => string.CompareOrdinal(a.SOPInstanceUID, b.SOPInstanceUID));
        int number = (await db.DatasetVersions.Where(v => v.DatasetId == datasetId).MaxAsync(v => (int?)v.Number, ct) ?? 0) + 1;
        var version = new DatasetVersion
        {
            DatasetId = datasetId, ProjectId = dataset.ProjectId, DatasetName = dataset.Name, Number = number, CreatedAt = DateTime.UtcNow,
            Note = note, InstanceCount = items.Count, UidListHash = IProjectCatalog.HashUidList(items.Select(i => i.SOPInstanceUID)),
            Items = items.Select(i => new DatasetVersionItem { StudyInstanceUID = i.StudyInstanceUID, SeriesInstanceUID = i.SeriesInstanceUID, SOPInstanceUID = i.SOPInstanceUID }).ToList(),
        };
        db.DatasetVersions.Add(version);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        logger.LogInformation("Froze dataset {Dataset} as version {Number}: {Count} instances, hash {Hash}", dataset.Name, number, items.Count, version.UidListHash);
        return version;
    }

    public async Task<DatasetVersion?> GetVersionAsync(long versionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var version = await db.DatasetVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Id == versionId, ct);
        if (version is null) return null;
        version.Items = await db.DatasetVersionItems.AsNoTracking().Where(i => i.DatasetVersionId == versionId).ToListAsync(ct);
        version.Items.Sort((a, b) => string.CompareOrdinal(a.SOPInstanceUID, b.SOPInstanceUID));
        return version;
    }

    public async Task<ReceivingEndpoint> SetReceivingEndpointAsync(string aeTitle, int projectId, int? datasetId = null, string? description = null, CancellationToken ct = default)
    {
        aeTitle = NormalizeAE(aeTitle) ?? throw new ArgumentException("An AE title is required.", nameof(aeTitle));
        if (aeTitle.Length > 16) throw new ArgumentException($"AE title '{aeTitle}' is longer than 16 characters.", nameof(aeTitle));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoint = await db.ReceivingEndpoints.FirstOrDefaultAsync(e => e.AETitle == aeTitle, ct);
        if (endpoint is null)
        {
            endpoint = new ReceivingEndpoint { AETitle = aeTitle };
            db.ReceivingEndpoints.Add(endpoint);
        }
        endpoint.ProjectId = projectId;
        endpoint.DatasetId = datasetId;
        endpoint.Description = description ?? endpoint.Description;
        await db.SaveChangesAsync(ct);
        Invalidate();
        return endpoint;
    }

    public async Task<ReceivingEndpoint?> FindReceivingEndpointAsync(string aeTitle, CancellationToken ct = default)
    {
        var ae = NormalizeAE(aeTitle);
        if (ae is null) return null;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ReceivingEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.AETitle == ae, ct);
    }

    public async Task<IReadOnlyList<ReceivingEndpointInfo>> ListReceivingEndpointsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await (from e in db.ReceivingEndpoints.AsNoTracking()
                      join p in db.Projects on e.ProjectId equals p.Id
                      join d in db.Datasets on e.DatasetId equals (int?)d.Id into ds
                      from d in ds.DefaultIfEmpty()
                      orderby e.AETitle
                      select new ReceivingEndpointInfo(e.Id, e.AETitle, e.ProjectId, p.Name, e.DatasetId, d == null ? null : d.Name, e.Description))
            .ToListAsync(ct);
    }

    public async Task<ReceivingEndpointInfo> SaveReceivingEndpointAsync(string aeTitle, int projectId, int? datasetId, string? description, bool mustBeNew,
        CancellationToken ct = default)
    {
        if (Dicom.AETitleRules.Check(aeTitle) is { } error) throw new CatalogValidationException(error);
        var ae = aeTitle.Trim();
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) throw new CatalogValidationException($"There is no project {projectId}.");
            if (datasetId is { } dsId && !await db.Datasets.AnyAsync(d => d.Id == dsId && d.ProjectId == projectId, ct))
                throw new CatalogValidationException($"Dataset {dsId} is not a dataset of the chosen project.");
            if (mustBeNew && await db.ReceivingEndpoints.AnyAsync(e => e.AETitle == ae, ct))
                throw new CatalogValidationException($"AE title '{ae}' is already a receiving endpoint.");
        }
        await SetReceivingEndpointAsync(ae, projectId, datasetId, null, ct);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Set keeps an existing description when given null; the admin form may clear it.
            await db.ReceivingEndpoints.Where(e => e.AETitle == ae).ExecuteUpdateAsync(u => u.SetProperty(e => e.Description,
                string.IsNullOrWhiteSpace(description) ? null : description.Trim()), ct);
        }
        await NotifyEndpointObserversAsync(ct);
        return (await ListReceivingEndpointsAsync(ct)).Single(e => e.AETitle == ae);
    }

    public async Task<bool> DeleteReceivingEndpointAsync(string aeTitle, CancellationToken ct = default)
    {
        if (NormalizeAE(aeTitle) is not { } ae) return false;
        int deleted;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            deleted = await db.ReceivingEndpoints.Where(e => e.AETitle == ae).ExecuteDeleteAsync(ct);
        Invalidate();
        if (deleted > 0) await NotifyEndpointObserversAsync(ct);
        return deleted > 0;
    }

    private async Task NotifyEndpointObserversAsync(CancellationToken ct)
    {
        foreach (var observer in endpointObservers) await observer.ReceivingEndpointsChangedAsync(ct);
    }

    public async Task<IReadOnlyList<ProjectSummary>> ListProjectSummariesAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Projects.AsNoTracking().OrderBy(p => p.Name).Select(p => new ProjectSummary(p.Id, p.Name, p.Description, p.CreatedAt,
                db.ProjectSeries.Count(l => l.ProjectId == p.Id),
                db.ProjectSeries.Where(l => l.ProjectId == p.Id).Sum(l => (long)l.Series.NumberOfInstances),
                db.ProjectSeries.Where(l => l.ProjectId == p.Id).Sum(l => l.Series.TotalSize),
                db.Datasets.Count(d => d.ProjectId == p.Id)))
            .ToListAsync(ct);
    }

    public async Task<bool> UpdateProjectDescriptionAsync(int projectId, string? description, CancellationToken ct = default)
    {
        if (description is { Length: > 4000 }) throw new CatalogValidationException("A description has at most 4000 characters.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Projects.Where(p => p.Id == projectId).ExecuteUpdateAsync(u => u.SetProperty(p => p.Description,
            string.IsNullOrWhiteSpace(description) ? null : description.Trim()), ct) > 0;
    }

    public async Task<ProjectDeleteOutcome> DeleteProjectAsync(int projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return ProjectDeleteOutcome.NotFound;
        if (project.Name == _options.DefaultProject || await db.ProjectSeries.AnyAsync(l => l.ProjectId == projectId, ct)
            || await db.WorkflowRuns.AnyAsync(r => r.ProjectId == projectId, ct))
            return ProjectDeleteOutcome.NotEmpty;
        // Explicit rather than by cascade, as in DeleteDatasetAsync. Frozen versions keep their items and name (they are records).
        var datasetIds = await db.Datasets.Where(d => d.ProjectId == projectId).Select(d => (int?)d.Id).ToListAsync(ct);
        await db.DatasetVersions.Where(v => datasetIds.Contains(v.DatasetId)).ExecuteUpdateAsync(u => u.SetProperty(v => v.DatasetId, (int?)null), ct);
        int endpoints = await db.ReceivingEndpoints.Where(e => e.ProjectId == projectId).ExecuteDeleteAsync(ct);
        await db.Datasets.Where(d => d.ProjectId == projectId).ExecuteDeleteAsync(ct);
        await db.Projects.Where(p => p.Id == projectId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        Invalidate();
        logger.LogInformation("Deleted empty project {Project} ({Endpoints} receiving endpoints)", project.Name, endpoints);
        if (endpoints > 0) await NotifyEndpointObserversAsync(ct);
        return ProjectDeleteOutcome.Deleted;
    }

    /// <summary>AE titles are case-sensitive; leading and trailing spaces are not significant (PS3.5 6.2, AE).</summary>
    public static string? NormalizeAE(string? ae) => string.IsNullOrWhiteSpace(ae) ? null : ae.Trim();

    public async ValueTask<(IngestTarget? Target, string? Error)> ResolveIngestTargetAsync(IngestContext context, CancellationToken ct = default)
    {
        if (context.Project is { } projectName)
        {
            var key = projectName + "\n" + context.Dataset;
            if (!_byProject.TryGetValue(key, out var target))
            {
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                var projectId = await db.Projects.Where(p => p.Name == projectName).Select(p => (int?)p.Id).FirstOrDefaultAsync(ct);
                int? datasetId = null;
                if (projectId is not null && context.Dataset is { } datasetName)
                    datasetId = await db.Datasets.Where(d => d.ProjectId == projectId && d.Name == datasetName).Select(d => (int?)d.Id).FirstOrDefaultAsync(ct);
                target = projectId is null || (context.Dataset is not null && datasetId is null) ? null : new IngestTarget(projectId.Value, datasetId);
                _byProject[key] = target;
            }
            return target is null
                ? (null, context.Dataset is null ? $"unknown project '{projectName}'" : $"unknown project '{projectName}' or dataset '{context.Dataset}'")
                : (target, null);
        }

        var calledAE = NormalizeAE(context.CalledAE) ?? "";
        if (!_byCalledAE.TryGetValue(calledAE, out var byAE))
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var endpoint = calledAE.Length == 0 ? null : await db.ReceivingEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.AETitle == calledAE, ct);
            if (endpoint is not null)
            {
                byAE = new IngestTarget(endpoint.ProjectId, endpoint.DatasetId);
            }
            else
            {
                var defaultId = await db.Projects.Where(p => p.Name == _options.DefaultProject).Select(p => (int?)p.Id).FirstOrDefaultAsync(ct);
                byAE = defaultId is null ? null : new IngestTarget(defaultId.Value, null);
            }
            _byCalledAE[calledAE] = byAE;
        }
        return byAE is null ? (null, $"the default project '{_options.DefaultProject}' does not exist") : (byAE, null);
    }

    /// <summary>Creates the default project and the configured receiving endpoints (with their projects and datasets) when missing.</summary>
    public async Task SeedAsync(CancellationToken ct = default)
    {
        var defaultProject = await FindProjectAsync(_options.DefaultProject, ct) ?? await CreateProjectAsync(_options.DefaultProject, "Data received without a project.", ct);
        if (NormalizeAE(_options.DefaultAETitle) is { } defaultAE && await FindReceivingEndpointAsync(defaultAE, ct) is null)
            await SetReceivingEndpointAsync(defaultAE, defaultProject.Id, null, "The archive's own AE title.", ct);
        foreach (var e in _options.ReceivingEndpoints)
        {
            if (NormalizeAE(e.AETitle) is not { } ae || string.IsNullOrWhiteSpace(e.Project))
            {
                logger.LogWarning("Ignoring receiving endpoint without AE title or project: {AETitle} -> {Project}", e.AETitle, e.Project);
                continue;
            }
            var project = await FindProjectAsync(e.Project, ct) ?? await CreateProjectAsync(e.Project, null, ct);
            int? datasetId = null;
            if (!string.IsNullOrWhiteSpace(e.Dataset))
                datasetId = (await FindDatasetAsync(project.Id, e.Dataset, ct) ?? await CreateDatasetAsync(project.Id, e.Dataset, null, ct)).Id;
            await SetReceivingEndpointAsync(ae, project.Id, datasetId, null, ct);
        }
        Invalidate();
    }
}
