using Kaapana.Core.Archive.Import;
using Kaapana.Dicom;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>
/// REST API over the remote DICOM nodes (<c>Kaapana:Dicom:RemoteNodes</c>): list, C-ECHO, study search (C-FIND), import of a
/// study into a project (C-MOVE to this server), sending an archived series (C-STORE). Network failures answer 502.
/// </summary>
public static class RemoteNodesApi
{
    public sealed record RemoteNodeDto(string AETitle, string Host, int Port);
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
        return app;
    }

    private static ProblemDetails UnknownNode(string ae) => new() { Title = $"No remote node '{ae}' (Kaapana:Dicom:RemoteNodes).", Status = 404 };

    private static ProblemDetails Unreachable(string ae, DicomException ex) =>
        new() { Title = $"Remote node '{ae}' failed.", Detail = ex.Message, Status = StatusCodes.Status502BadGateway };

    public static Ok<List<RemoteNodeDto>> ListNodes(IRemoteImportService remote) =>
        TypedResults.Ok(remote.Nodes.Select(n => new RemoteNodeDto(n.AETitle.Trim(), n.Host, n.Port)).ToList());

    public static async Task<Results<Ok<EchoDto>, NotFound<ProblemDetails>, ProblemHttpResult>> Echo(string ae, IRemoteImportService remote, CancellationToken ct)
    {
        if (remote.FindNode(ae) is not { } node) return TypedResults.NotFound(UnknownNode(ae));
        try
        {
            var status = await remote.EchoAsync(node, ct);
            return TypedResults.Ok(new EchoDto(node.AETitle.Trim(), status.ToString(), status.IsSuccess));
        }
        catch (DicomException ex)
        {
            return TypedResults.Problem(Unreachable(ae, ex));
        }
    }

    public static async Task<Results<Ok<IReadOnlyList<RemoteStudy>>, NotFound<ProblemDetails>, ProblemHttpResult>> FindStudies(
        string ae, [AsParameters] StudyQuery query, IRemoteImportService remote, CancellationToken ct)
    {
        if (remote.FindNode(ae) is not { } node) return TypedResults.NotFound(UnknownNode(ae));
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

    public static async Task<Results<Ok<RemoteImportResult>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>, ProblemHttpResult>> Import(
        string ae, ImportRequest request, IRemoteImportService remote, CancellationToken ct)
    {
        if (remote.FindNode(ae) is not { } node) return TypedResults.NotFound(UnknownNode(ae));
        if (string.IsNullOrWhiteSpace(request.StudyInstanceUID) || string.IsNullOrWhiteSpace(request.Project))
            return TypedResults.BadRequest(new ProblemDetails { Title = "studyInstanceUID and project are required." });
        try
        {
            return TypedResults.Ok(await remote.ImportStudyAsync(node, request.StudyInstanceUID, request.Project, request.Dataset, ct));
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

    public static async Task<Results<Ok<RemoteSendResult>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>, ProblemHttpResult>> Send(
        string ae, SendRequest request, IRemoteImportService remote, CancellationToken ct)
    {
        if (remote.FindNode(ae) is not { } node) return TypedResults.NotFound(UnknownNode(ae));
        if (string.IsNullOrWhiteSpace(request.SeriesInstanceUID))
            return TypedResults.BadRequest(new ProblemDetails { Title = "seriesInstanceUID is required." });
        try
        {
            return TypedResults.Ok(await remote.SendSeriesAsync(node, request.SeriesInstanceUID, ct));
        }
        catch (RemoteImportException ex)
        {
            return TypedResults.NotFound(new ProblemDetails { Title = ex.Message, Status = 404 });
        }
        catch (DicomException ex)
        {
            return TypedResults.Problem(Unreachable(ae, ex));
        }
    }
}
