using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Maintenance;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Audit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>REST API over the archive for scripts, notebooks and the UI: projects, datasets, frozen versions, series search, deletion.</summary>
public static class ArchiveApi
{
    public sealed record CreateProjectRequest(string Name, string? Description);
    public sealed record ProjectDto(int Id, string Name, string? Description, DateTime CreatedAt);
    public sealed record CreateDatasetRequest(string Name, string? Description);
    public sealed record SeriesListRequest(IReadOnlyList<string> SeriesInstanceUIDs);
    public sealed record ChangedCount(int Changed);
    public sealed record FreezeRequest(string? Note);
    public sealed record VersionDto(long Id, int ProjectId, string DatasetName, int Number, DateTime CreatedAt, string? Note, int InstanceCount, string UidListHash);

    public sealed record SeriesQuery(string? Project, int? Dataset, string? Modality, string? PatientID, string? StudyInstanceUID, string? Q, int? Offset, int? Limit);

    public static IEndpointRouteBuilder MapArchiveApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Archive");
        api.MapGet("/projects", ListProjects);
        api.MapPost("/projects", CreateProject);
        api.MapGet("/projects/{project}/datasets", ListDatasets);
        api.MapPost("/projects/{project}/datasets", CreateDataset);
        api.MapPost("/projects/{project}/series", AddSeriesToProject);
        api.MapPost("/datasets/{id:int}/series", AddSeriesToDataset);
        api.MapPost("/datasets/{id:int}/series/remove", RemoveSeriesFromDataset);
        api.MapDelete("/datasets/{id:int}", DeleteDataset);
        api.MapPost("/datasets/{id:int}/versions", FreezeDataset);
        api.MapGet("/versions/{id:long}", GetVersion);
        api.MapGet("/series", SearchSeries);
        api.MapDelete("/series/{uid}", DeleteSeries);
        api.MapGet("/maintenance/consistency", CheckConsistency);
        app.MapMembersApi();
        app.MapTagsApi();
        app.MapDatasetsExportApi();
        return app;
    }

    private static ProjectDto ToDto(Project p) => new(p.Id, p.Name, p.Description, p.CreatedAt);

    /// <summary>The projects the caller can read (a site admin: all).</summary>
    public static async Task<Ok<List<ProjectDto>>> ListProjects(IProjectCatalog catalog, ICurrentCaller caller, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        return TypedResults.Ok((await catalog.ListProjectsAsync(ct)).Where(p => scope.Can(p.Id, ProjectPermission.Read)).Select(ToDto).ToList());
    }

    /// <summary>Site admins create projects (and then add members).</summary>
    public static async Task<Results<Created<ProjectDto>, Conflict<ProblemDetails>, BadRequest<ProblemDetails>, ForbidHttpResult>> CreateProject(
        CreateProjectRequest request, IProjectCatalog catalog, ICurrentCaller caller, CancellationToken ct)
    {
        if (!(await caller.GetAsync(ct)).CanAdministerSite) return TypedResults.Forbid();
        if (string.IsNullOrWhiteSpace(request.Name))
            return TypedResults.BadRequest(new ProblemDetails { Title = "A project needs a name." });
        if (await catalog.FindProjectAsync(request.Name, ct) is not null)
            return TypedResults.Conflict(new ProblemDetails { Title = $"Project '{request.Name}' exists." });
        var p = await catalog.CreateProjectAsync(request.Name.Trim(), request.Description, ct);
        return TypedResults.Created($"/api/projects/{p.Name}", ToDto(p));
    }

    public static async Task<Results<Ok<IReadOnlyList<DatasetSummary>>, NotFound>> ListDatasets(
        string project, IArchiveQueries queries, ICurrentCaller caller, CancellationToken ct) =>
        await queries.ListDatasetsAsync(await caller.GetAsync(ct), project, ct) is { } list ? TypedResults.Ok(list) : TypedResults.NotFound();

    public static async Task<Results<Created<DatasetSummary>, NotFound, Conflict<ProblemDetails>, ForbidHttpResult>> CreateDataset(
        string project, CreateDatasetRequest request, IProjectCatalog catalog, ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        if (await catalog.FindVisibleProjectAsync(project, scope, ct) is not { } p) return TypedResults.NotFound();
        if (!scope.Can(p.Id, ProjectPermission.Curate)) return audit.Denied(http, scope, AuditActions.DatasetCreated, $"project:{p.Name} dataset:{request.Name}");
        if (await catalog.FindDatasetAsync(p.Id, request.Name, ct) is not null)
            return TypedResults.Conflict(new ProblemDetails { Title = $"Dataset '{request.Name}' exists in project '{project}'." });
        var d = await catalog.CreateDatasetAsync(p.Id, request.Name, request.Description, ct);
        audit.Audit(http, scope, AuditActions.DatasetCreated, $"project:{p.Name} dataset:{d.Name}", AuditOutcomes.Success, new { datasetId = d.Id });
        return TypedResults.Created($"/api/datasets/{d.Id}", new DatasetSummary(d.Id, d.Name, d.Description, d.CreatedAt, 0, 0, 0));
    }

    /// <summary>Links series the caller can read into a project it curates (others are ignored, as UIDs not in the index are).</summary>
    public static async Task<Results<Ok<ChangedCount>, NotFound, ForbidHttpResult>> AddSeriesToProject(
        string project, SeriesListRequest request, IProjectCatalog catalog, IArchiveQueries queries, ICurrentCaller caller, IAuditTrail audit,
        HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        if (await catalog.FindVisibleProjectAsync(project, scope, ct) is not { } p) return TypedResults.NotFound();
        if (!scope.Can(p.Id, ProjectPermission.Curate)) return audit.Denied(http, scope, AuditActions.SeriesAddedToProject, $"project:{p.Name}");
        var readable = await queries.ClassifySeriesAsync(scope, request.SeriesInstanceUIDs ?? [], ProjectPermission.Read, ct);
        int added = await catalog.AddSeriesToProjectAsync(p.Id, readable.Permitted, ct);
        audit.Audit(http, scope, AuditActions.SeriesAddedToProject, $"project:{p.Name}", AuditOutcomes.Success, new { added });
        return TypedResults.Ok(new ChangedCount(added));
    }

    /// <summary>
    /// The dataset's project when the caller may do <paramref name="permission"/> there; NotFound when the dataset does not
    /// exist or is invisible, Forbid (audited) when it is visible but not permitted.
    /// </summary>
    private static async Task<(AccessScope Scope, IResult? Refusal)> DatasetGateAsync(int id, ProjectPermission permission, string action, ICurrentCaller caller,
        IAccessControl access, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        if (!await access.CanDatasetAsync(scope, id, ProjectPermission.Read, ct)) return (scope, TypedResults.NotFound());
        if (!await access.CanDatasetAsync(scope, id, permission, ct)) return (scope, audit.Denied(http, scope, action, $"dataset:{id}"));
        return (scope, null);
    }

    public static async Task<IResult> AddSeriesToDataset(int id, SeriesListRequest request, IProjectCatalog catalog, IArchiveQueries queries,
        ICurrentCaller caller, IAccessControl access, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var (scope, refusal) = await DatasetGateAsync(id, ProjectPermission.Curate, AuditActions.DatasetChanged, caller, access, audit, http, ct);
        if (refusal is not null) return refusal;
        // Only series the caller can read: adding one links it into the dataset's project, which would hand it to that project's members.
        var readable = await queries.ClassifySeriesAsync(scope, request.SeriesInstanceUIDs ?? [], ProjectPermission.Read, ct);
        try
        {
            int added = await catalog.AddSeriesToDatasetAsync(id, readable.Permitted, ct);
            audit.Audit(http, scope, AuditActions.DatasetChanged, $"dataset:{id}", AuditOutcomes.Success, new { added });
            return TypedResults.Ok(new ChangedCount(added));
        }
        catch (KeyNotFoundException) { return TypedResults.NotFound(); }
    }

    public static async Task<IResult> RemoveSeriesFromDataset(int id, SeriesListRequest request, IProjectCatalog catalog, ICurrentCaller caller,
        IAccessControl access, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var (scope, refusal) = await DatasetGateAsync(id, ProjectPermission.Curate, AuditActions.DatasetChanged, caller, access, audit, http, ct);
        if (refusal is not null) return refusal;
        int removed = await catalog.RemoveSeriesFromDatasetAsync(id, request.SeriesInstanceUIDs ?? [], ct);
        audit.Audit(http, scope, AuditActions.DatasetChanged, $"dataset:{id}", AuditOutcomes.Success, new { removed });
        return TypedResults.Ok(new ChangedCount(removed));
    }

    /// <summary>Removes the dataset only; its series and files stay in the archive.</summary>
    public static async Task<IResult> DeleteDataset(int id, IProjectCatalog catalog, ICurrentCaller caller, IAccessControl access, IAuditTrail audit,
        HttpContext http, CancellationToken ct)
    {
        var (scope, refusal) = await DatasetGateAsync(id, ProjectPermission.Curate, AuditActions.DatasetDeleted, caller, access, audit, http, ct);
        if (refusal is not null) return refusal;
        if (!await catalog.DeleteDatasetAsync(id, ct)) return TypedResults.NotFound();
        audit.Audit(http, scope, AuditActions.DatasetDeleted, $"dataset:{id}", AuditOutcomes.Success);
        return TypedResults.NoContent();
    }

    private static VersionDto ToDto(DatasetVersion v) => new(v.Id, v.ProjectId, v.DatasetName, v.Number, v.CreatedAt, v.Note, v.InstanceCount, v.UidListHash);

    public static async Task<IResult> FreezeDataset(int id, FreezeRequest? request, IProjectCatalog catalog, ICurrentCaller caller, IAccessControl access,
        IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var (scope, refusal) = await DatasetGateAsync(id, ProjectPermission.Curate, AuditActions.DatasetFrozen, caller, access, audit, http, ct);
        if (refusal is not null) return refusal;
        try
        {
            var v = await catalog.FreezeAsync(id, request?.Note, ct);
            audit.Audit(http, scope, AuditActions.DatasetFrozen, $"dataset:{id} version:{v.Id}", AuditOutcomes.Success,
                new { v.DatasetName, v.Number, v.InstanceCount, v.UidListHash });
            return TypedResults.Created($"/api/versions/{v.Id}", ToDto(v));
        }
        catch (KeyNotFoundException) { return TypedResults.NotFound(); }
    }

    public static async Task<Results<Ok<VersionDto>, NotFound>> GetVersion(long id, IProjectCatalog catalog, ICurrentCaller caller, CancellationToken ct) =>
        await catalog.GetVersionAsync(id, ct) is { } v && (await caller.GetAsync(ct)).Can(v.ProjectId, ProjectPermission.Read)
            ? TypedResults.Ok(ToDto(v)) : TypedResults.NotFound();

    public static async Task<Ok<Page<SeriesSummary>>> SearchSeries([AsParameters] SeriesQuery query, IArchiveQueries queries, ICurrentCaller caller,
        CancellationToken ct) =>
        TypedResults.Ok(await queries.SearchSeriesAsync(new SeriesSearch(query.Project, query.Dataset, query.Modality, query.PatientID,
            query.StudyInstanceUID, query.Q, query.Offset ?? 0, query.Limit ?? 100, (await caller.GetAsync(ct)).ProjectsWith(ProjectPermission.Read)), ct));

    /// <summary>Deletes the series' files and rows (frozen versions keep their UID lists). Needs Manage in every project holding it.</summary>
    public static async Task<Results<NoContent, NotFound, ForbidHttpResult>> DeleteSeries(string uid, IArchiveMaintenance maintenance, IArchiveQueries queries,
        ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        var access = await queries.ClassifySeriesAsync(scope, [uid], ProjectPermission.Manage, ct);
        if (access.VisibleOnly.Count > 0) return audit.Denied(http, scope, AuditActions.SeriesDeleted, uid);
        if (access.Permitted.Count == 0 && !scope.IsSiteAdmin) return TypedResults.NotFound();
        bool deleted = await maintenance.DeleteSeriesAsync(uid, ct);
        if (deleted) audit.Audit(http, scope, AuditActions.SeriesDeleted, uid, AuditOutcomes.Success);
        return deleted ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    public static async Task<Results<Ok<ConsistencyReport>, ForbidHttpResult>> CheckConsistency(IArchiveMaintenance maintenance, ICurrentCaller caller,
        CancellationToken ct) =>
        (await caller.GetAsync(ct)).CanAdministerSite ? TypedResults.Ok(await maintenance.CheckConsistencyAsync(ct)) : TypedResults.Forbid();
}
