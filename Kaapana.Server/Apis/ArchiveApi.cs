using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Maintenance;
using Kaapana.Core.Archive.Projects;
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
        string project, IProjectCatalog catalog, IArchiveQueries queries, CancellationToken ct) =>
        await catalog.FindProjectAsync(project, ct) is { } p ? TypedResults.Ok(await queries.ListDatasetsAsync(p.Id, ct)) : TypedResults.NotFound();

    public static async Task<Results<Created<DatasetSummary>, NotFound, Conflict<ProblemDetails>>> CreateDataset(
        string project, CreateDatasetRequest request, IProjectCatalog catalog, CancellationToken ct)
    {
        if (await catalog.FindProjectAsync(project, ct) is not { } p) return TypedResults.NotFound();
        if (await catalog.FindDatasetAsync(p.Id, request.Name, ct) is not null)
            return TypedResults.Conflict(new ProblemDetails { Title = $"Dataset '{request.Name}' exists in project '{project}'." });
        var d = await catalog.CreateDatasetAsync(p.Id, request.Name, request.Description, ct);
        return TypedResults.Created($"/api/datasets/{d.Id}", new DatasetSummary(d.Id, d.Name, d.Description, d.CreatedAt, 0, 0, 0));
    }

    public static async Task<Results<Ok<ChangedCount>, NotFound>> AddSeriesToProject(
        string project, SeriesListRequest request, IProjectCatalog catalog, CancellationToken ct) =>
        await catalog.FindProjectAsync(project, ct) is { } p
            ? TypedResults.Ok(new ChangedCount(await catalog.AddSeriesToProjectAsync(p.Id, request.SeriesInstanceUIDs, ct)))
            : TypedResults.NotFound();

    public static async Task<Results<Ok<ChangedCount>, NotFound>> AddSeriesToDataset(int id, SeriesListRequest request, IProjectCatalog catalog, CancellationToken ct)
    {
        try { return TypedResults.Ok(new ChangedCount(await catalog.AddSeriesToDatasetAsync(id, request.SeriesInstanceUIDs, ct))); }
        catch (KeyNotFoundException) { return TypedResults.NotFound(); }
    }

    public static async Task<Results<Ok<ChangedCount>, NotFound>> RemoveSeriesFromDataset(int id, SeriesListRequest request, IProjectCatalog catalog, CancellationToken ct)
    {
        try { return TypedResults.Ok(new ChangedCount(await catalog.RemoveSeriesFromDatasetAsync(id, request.SeriesInstanceUIDs, ct))); }
        catch (KeyNotFoundException) { return TypedResults.NotFound(); }
    }

    /// <summary>Removes the dataset only; its series and files stay in the archive.</summary>
    public static async Task<Results<NoContent, NotFound>> DeleteDataset(int id, IProjectCatalog catalog, CancellationToken ct) =>
        await catalog.DeleteDatasetAsync(id, ct) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static VersionDto ToDto(DatasetVersion v) => new(v.Id, v.ProjectId, v.DatasetName, v.Number, v.CreatedAt, v.Note, v.InstanceCount, v.UidListHash);

    public static async Task<Results<Created<VersionDto>, NotFound>> FreezeDataset(int id, FreezeRequest? request, IProjectCatalog catalog, CancellationToken ct)
    {
        try
        {
            var v = await catalog.FreezeAsync(id, request?.Note, ct);
            return TypedResults.Created($"/api/versions/{v.Id}", ToDto(v));
        }
        catch (KeyNotFoundException) { return TypedResults.NotFound(); }
    }

    public static async Task<Results<Ok<VersionDto>, NotFound>> GetVersion(long id, IProjectCatalog catalog, CancellationToken ct) =>
        await catalog.GetVersionAsync(id, ct) is { } v ? TypedResults.Ok(ToDto(v)) : TypedResults.NotFound();

    public static async Task<Ok<Page<SeriesSummary>>> SearchSeries([AsParameters] SeriesQuery query, IArchiveQueries queries, CancellationToken ct) =>
        TypedResults.Ok(await queries.SearchSeriesAsync(new SeriesSearch(query.Project, query.Dataset, query.Modality, query.PatientID,
            query.StudyInstanceUID, query.Q, query.Offset ?? 0, query.Limit ?? 100), ct));

    /// <summary>Deletes the series' files and rows (frozen versions keep their UID lists).</summary>
    public static async Task<Results<NoContent, NotFound>> DeleteSeries(string uid, IArchiveMaintenance maintenance, Kaapana.Core.Audit.IAuditTrail audit,
        HttpContext http, CancellationToken ct)
    {
        bool deleted = await maintenance.DeleteSeriesAsync(uid, ct);
        if (deleted)
            audit.Record(new Kaapana.Core.Audit.AuditEvent(http.User.Identity?.Name ?? "anonymous", Kaapana.Core.Audit.AuditActions.SeriesDeleted, uid,
                Kaapana.Core.Audit.AuditOutcomes.Success, http.Connection.RemoteIpAddress?.ToString()));
        return deleted ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    public static async Task<Ok<ConsistencyReport>> CheckConsistency(IArchiveMaintenance maintenance, CancellationToken ct) =>
        TypedResults.Ok(await maintenance.CheckConsistencyAsync(ct));
}
