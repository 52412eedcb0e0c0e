using Kaapana.Core.Access;
using Kaapana.Core.Archive.Dicom;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Audit;
using Kaapana.Core.Archive.Import;
using Kaapana.Dicom;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>
/// REST API over the remote DICOM nodes (<see cref="IRemoteNodeDirectory"/>: <c>Kaapana:Dicom:RemoteNodes</c> plus those in the
/// index). <c>/api/remote-nodes</c>: list, add, edit, delete (nodes from configuration are read-only), C-ECHO test with the
/// round-trip time. <c>/api/nodes/{ae}</c>: C-ECHO, study search (C-FIND), import of a study into a project (C-MOVE to this
/// server), sending an archived series (C-STORE). Network failures answer 502.
/// </summary>
public static class RemoteNodesApi
{
    public sealed record RemoteNodeDto(string AETitle, string Host, int Port);
    public sealed record RemoteNodeDetailDto(int? Id, string AETitle, string Host, int Port, string? Description, bool FromConfiguration);
    public sealed record RemoteNodeRequest(string? AETitle, string? Host, int? Port, string? Description);
    public sealed record EchoDto(string AETitle, string Status, bool Succeeded);
    public sealed record StudyQuery(string? PatientID, string? PatientName, string? StudyDateFrom, string? StudyDateTo, string? AccessionNumber,
        string? Modality, string? StudyInstanceUID);
    public sealed record ImportRequest(string StudyInstanceUID, string Project, string? Dataset);
    public sealed record SendRequest(string SeriesInstanceUID);

    public static IEndpointRouteBuilder MapRemoteNodesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/nodes").WithTags("Remote nodes");
        api.MapGet("", ListNodes);
        api.MapPost("/{ae}/echo", Echo);
        api.MapGet("/{ae}/studies", FindStudies);
        api.MapPost("/{ae}/import", Import);
        api.MapPost("/{ae}/send", Send);

        // Managing nodes (and probing them) is an admin task; using them (/api/nodes/{ae}/...) is not.
        var admin = app.MapGroup("/api/remote-nodes").WithTags("Remote nodes").RequireAuthorization(Auth.AuthExtensions.AdminPolicy);
        admin.MapGet("", ListNodeDetails);
        admin.MapPost("", AddNode);
        admin.MapGet("/{id:int}", GetNode);
        admin.MapPut("/{id:int}", UpdateNode);
        admin.MapDelete("/{id:int}", DeleteNode);
        admin.MapPost("/{id:int}/echo", TestNode);
        admin.MapPost("/by-ae/{ae}/echo", TestNodeByAE);
        return app;
    }

    private static ProblemDetails NoSeries => new() { Title = "The series is not in the archive.", Status = 404 };

    private static ProblemDetails UnknownNode(string ae) => new() { Title = $"No remote node '{ae}'.", Status = 404 };

    private static RemoteNodeDetailDto ToDto(RemoteNodeEntry n) => new(n.Id, n.AETitle, n.Host, n.Port, n.Description, n.FromConfiguration);

    private static RemoteNodeInput ToInput(RemoteNodeRequest r) => new(r.AETitle, r.Host, r.Port ?? 104, r.Description);

    public static async Task<Ok<List<RemoteNodeDetailDto>>> ListNodeDetails(IRemoteNodeDirectory nodes, CancellationToken ct) =>
        TypedResults.Ok((await nodes.ListAsync(ct)).Select(ToDto).ToList());

    public static async Task<Results<Ok<RemoteNodeDetailDto>, NotFound<ProblemDetails>>> GetNode(int id, IRemoteNodeDirectory nodes, CancellationToken ct) =>
        await nodes.GetAsync(id, ct) is { } n ? TypedResults.Ok(ToDto(n)) : TypedResults.NotFound(new ProblemDetails { Title = $"No remote node {id}.", Status = 404 });

    public static async Task<Results<Created<RemoteNodeDetailDto>, BadRequest<ProblemDetails>>> AddNode(
        RemoteNodeRequest request, IRemoteNodeDirectory nodes, CancellationToken ct)
    {
        try
        {
            var n = await nodes.AddAsync(ToInput(request), ct);
            return TypedResults.Created($"/api/remote-nodes/{n.Id}", ToDto(n));
        }
        catch (RemoteNodeValidationException ex)
        {
            return TypedResults.BadRequest(new ProblemDetails { Title = ex.Message, Status = 400 });
        }
    }

    public static async Task<Results<Ok<RemoteNodeDetailDto>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>>> UpdateNode(
        int id, RemoteNodeRequest request, IRemoteNodeDirectory nodes, CancellationToken ct)
    {
        try
        {
            return await nodes.UpdateAsync(id, ToInput(request), ct) is { } n
                ? TypedResults.Ok(ToDto(n))
                : TypedResults.NotFound(new ProblemDetails { Title = $"No remote node {id} in the index (nodes from configuration are read-only).", Status = 404 });
        }
        catch (RemoteNodeValidationException ex)
        {
            return TypedResults.BadRequest(new ProblemDetails { Title = ex.Message, Status = 400 });
        }
    }

    public static async Task<Results<NoContent, NotFound<ProblemDetails>>> DeleteNode(int id, IRemoteNodeDirectory nodes, CancellationToken ct) =>
        await nodes.DeleteAsync(id, ct) ? TypedResults.NoContent() : TypedResults.NotFound(new ProblemDetails { Title = $"No remote node {id}.", Status = 404 });

    /// <summary>The admin page's "Test": 200 with <c>succeeded</c> false (and the error) when the node does not answer; the test itself worked.</summary>
    public static async Task<Results<Ok<RemoteNodeEchoResult>, NotFound<ProblemDetails>>> TestNode(int id, IRemoteNodeDirectory nodes, RemoteNodeEcho echo,
        CancellationToken ct) =>
        await nodes.GetAsync(id, ct) is { } n ? TypedResults.Ok(await echo.EchoAsync(n, ct)) : TypedResults.NotFound(new ProblemDetails { Title = $"No remote node {id}.", Status = 404 });

    /// <summary>As <see cref="TestNode"/>, by AE title (nodes from configuration have no id).</summary>
    public static async Task<Results<Ok<RemoteNodeEchoResult>, NotFound<ProblemDetails>>> TestNodeByAE(string ae, IRemoteNodeDirectory nodes, RemoteNodeEcho echo,
        CancellationToken ct) =>
        await nodes.FindAsync(ae, ct) is { } n ? TypedResults.Ok(await echo.EchoAsync(n, ct)) : TypedResults.NotFound(UnknownNode(ae));

    private static ProblemDetails Unreachable(string ae, DicomException ex) =>
        new() { Title = $"Remote node '{ae}' failed.", Detail = ex.Message, Status = StatusCodes.Status502BadGateway };

    /// <summary>
    /// Using remote nodes (list, echo, study search) is for whoever may bring data into some project (Curate somewhere);
    /// what may then be imported or sent is decided per project.
    /// </summary>
    private static async Task<bool> MayUseNodesAsync(ICurrentCaller caller, CancellationToken ct) =>
        (await caller.GetAsync(ct)).ProjectsWith(ProjectPermission.Curate) is not { Length: 0 };

    public static async Task<Results<Ok<List<RemoteNodeDto>>, ForbidHttpResult>> ListNodes(IRemoteNodeDirectory nodes, ICurrentCaller caller, CancellationToken ct) =>
        await MayUseNodesAsync(caller, ct)
            ? TypedResults.Ok((await nodes.ListAsync(ct)).Select(n => new RemoteNodeDto(n.AETitle, n.Host, n.Port)).ToList())
            : TypedResults.Forbid();

    public static async Task<Results<Ok<EchoDto>, NotFound<ProblemDetails>, ProblemHttpResult, ForbidHttpResult>> Echo(string ae, IRemoteImportService remote,
        IRemoteNodeDirectory nodes, ICurrentCaller caller, CancellationToken ct)
    {
        if (!await MayUseNodesAsync(caller, ct)) return TypedResults.Forbid();
        if (await nodes.FindAsync(ae, ct) is not { } entry) return TypedResults.NotFound(UnknownNode(ae));
        var node = entry.ToOptions();
        try
        {
            var status = await remote.EchoAsync(node, ct);
            return TypedResults.Ok(new EchoDto(entry.AETitle, status.ToString(), status.IsSuccess));
        }
        catch (DicomException ex)
        {
            return TypedResults.Problem(Unreachable(ae, ex));
        }
    }

    public static async Task<Results<Ok<IReadOnlyList<RemoteStudy>>, NotFound<ProblemDetails>, ProblemHttpResult, ForbidHttpResult>> FindStudies(
        string ae, [AsParameters] StudyQuery query, IRemoteImportService remote, IRemoteNodeDirectory nodes, ICurrentCaller caller, CancellationToken ct)
    {
        if (!await MayUseNodesAsync(caller, ct)) return TypedResults.Forbid();
        if (await nodes.FindAsync(ae, ct) is not { } entry) return TypedResults.NotFound(UnknownNode(ae));
        var node = entry.ToOptions();
        try
        {
            return TypedResults.Ok(await remote.FindStudiesAsync(node, new RemoteStudyFilter
            {
                PatientID = query.PatientID,
                PatientName = query.PatientName,
                StudyDateFrom = query.StudyDateFrom,
                StudyDateTo = query.StudyDateTo,
                AccessionNumber = query.AccessionNumber,
                Modality = query.Modality,
                StudyInstanceUID = query.StudyInstanceUID,
            }, ct));
        }
        catch (DicomException ex)
        {
            return TypedResults.Problem(Unreachable(ae, ex));
        }
    }

    /// <summary>
    /// Needs Curate in the target project (an invisible one is answered like a nonexistent one). A study that exists here with
    /// series the caller cannot read is refused: the import links every local series of the study to the target project.
    /// </summary>
    public static async Task<IResult> Import(string ae, ImportRequest request, IRemoteImportService remote, IRemoteNodeDirectory nodes,
        IProjectCatalog catalog, IArchiveQueries queries, ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        if (await nodes.FindAsync(ae, ct) is not { } entry) return TypedResults.NotFound(UnknownNode(ae));
        var node = entry.ToOptions();
        if (string.IsNullOrWhiteSpace(request.StudyInstanceUID) || string.IsNullOrWhiteSpace(request.Project))
            return TypedResults.BadRequest(new ProblemDetails { Title = "studyInstanceUID and project are required." });
        if (await catalog.FindVisibleProjectAsync(request.Project, scope, ct) is not { } target)
            return TypedResults.BadRequest(new ProblemDetails { Title = $"Project '{request.Project}' does not exist." });
        var what = $"study:{request.StudyInstanceUID.Trim()} project:{target.Name} node:{entry.AETitle}";
        if (!scope.Can(target.Id, ProjectPermission.Curate)) return audit.Denied(http, scope, AuditActions.ImportStudy, what);
        var study = request.StudyInstanceUID.Trim();
        var all = await queries.SearchSeriesAsync(new SeriesSearch(StudyInstanceUID: study, Limit: 1), ct);
        var visible = await queries.SearchSeriesAsync(new SeriesSearch(StudyInstanceUID: study, Limit: 1, ProjectScope: scope.ProjectsWith(ProjectPermission.Read)), ct);
        if (all.Total > visible.Total)
        {
            audit.Audit(http, scope, AuditActions.ImportStudy, what, AuditOutcomes.Denied, new { reason = "conflicts with existing data" });
            return TypedResults.Conflict(new ProblemDetails { Title = "The study conflicts with existing data and was not imported.", Status = 409 });
        }
        try
        {
            var result = await remote.ImportStudyAsync(node, study, target.Name, request.Dataset, ct);
            audit.Audit(http, scope, AuditActions.ImportStudy, what, result.Succeeded ? AuditOutcomes.Success : AuditOutcomes.Partial,
                new { result.Completed, result.Failed, result.Warning, series = result.SeriesInstanceUIDs.Count });
            return TypedResults.Ok(result);
        }
        catch (RemoteImportException ex)
        {
            return TypedResults.BadRequest(new ProblemDetails { Title = ex.Message });
        }
        catch (DicomException ex)
        {
            return TypedResults.Problem(Unreachable(ae, ex));
        }
    }

    /// <summary>Needs Run in a project of the series; a series the caller cannot read is answered as one not in the archive.</summary>
    public static async Task<Results<Ok<RemoteSendResult>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>, ProblemHttpResult, ForbidHttpResult>> Send(
        string ae, SendRequest request, IRemoteImportService remote, IRemoteNodeDirectory nodes, IArchiveQueries queries, ICurrentCaller caller,
        IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        if (await nodes.FindAsync(ae, ct) is not { } entry) return TypedResults.NotFound(UnknownNode(ae));
        var node = entry.ToOptions();
        if (string.IsNullOrWhiteSpace(request.SeriesInstanceUID))
            return TypedResults.BadRequest(new ProblemDetails { Title = "seriesInstanceUID is required." });
        var uid = request.SeriesInstanceUID.Trim();
        var access = await queries.ClassifySeriesAsync(scope, [uid], ProjectPermission.Run, ct);
        if (access.VisibleOnly.Count > 0) return audit.Denied(http, scope, AuditActions.SeriesSent, $"series:{uid} node:{entry.AETitle}");
        if (access.Permitted.Count == 0 && !scope.IsSiteAdmin)
            return TypedResults.NotFound(NoSeries);
        try
        {
            var sent = await remote.SendSeriesAsync(node, uid, ct);
            audit.Audit(http, scope, AuditActions.SeriesSent, $"series:{uid} node:{entry.AETitle}", sent.Failed == 0 ? AuditOutcomes.Success : AuditOutcomes.Partial,
                new { sent.Succeeded, sent.Failed });
            return TypedResults.Ok(sent);
        }
        catch (RemoteImportException)
        {
            return TypedResults.NotFound(NoSeries);
        }
        catch (DicomException ex)
        {
            return TypedResults.Problem(Unreachable(ae, ex));
        }
    }
}
