using System.Net;
using Kaapana.Core.Access;
using Kaapana.Core.Audit;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Projects;
using Kaapana.Dicom.Network;
using Kaapana.Server.Apis;
using Kaapana.Server.Multipart;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// STOW-RS (PS3.18 10.5): <c>POST /dicomweb/studies[/{study}]</c> with <c>multipart/related; type="application/dicom"</c>.
/// The body is parsed as it arrives and each part streams straight into the one ingest pipeline; nothing is buffered whole.
/// <list type="bullet">
/// <item>Answer: the Store Instances Response Module as <c>application/dicom+json</c> (also for <c>application/json</c>,
/// <c>*/*</c> or no Accept); an Accept that allows neither (e.g. only <c>application/dicom+xml</c>) gets 406. Status: see
/// <see cref="StowResponse.StatusCode"/>.</item>
/// <item>Request errors, before any part is read, as ProblemDetails: Content-Type not multipart/related, or its <c>type</c>
/// other than application/dicom (a missing <c>type</c> is taken as application/dicom) -> 415; no or bad boundary -> 400;
/// <c>?project=</c>/<c>?dataset=</c> naming no existing project or dataset -> 400.</item>
/// <item>A damaged body (no first boundary, truncated part, no closing boundary, oversized part headers): parts received in
/// full before the damage stay stored and are listed; the damage is a failed item without UIDs (C000) carrying the message,
/// and the status is 400 when nothing was stored, else 202. When no part was read at all: 400 ProblemDetails.</item>
/// <item>A part whose Content-Type is neither application/dicom nor application/octet-stream (or absent) is not ingested
/// and is listed as failed (C000); a part that is not DICOM fails in ingest (C000) and the rest go on.</item>
/// </list>
/// <para>Access: storing needs Curate in the target project (the default project when no <c>?project=</c> is given): a
/// named project the caller may not read is answered as one that does not exist (400), one it may read but not curate
/// gets 403, as does the default project without Curate. An instance whose study, series or SOP instance exists where the
/// caller may not read is refused alone (failure reason 0124, "conflicts with existing data", nothing stored;
/// <see cref="IngestAccess"/>). Each request is audited with what it stored and refused; refused requests as denied.</para>
/// </summary>
public static class StowApi
{
    /// <summary>
    /// RFC 2046 5.1.1 allows 1 to 70 characters, but Orthanc's DICOMweb client (1.7) sends 73; we take what ASP.NET Core's
    /// form reader takes (FormOptions.MultipartBoundaryLengthLimit, 128).
    /// </summary>
    private const int MaxBoundaryLength = 128;
    private const string DicomJson = "application/dicom+json";

    public static IServiceCollection AddStow(this IServiceCollection services) => services;

    public static RouteGroupBuilder MapStow(this RouteGroupBuilder group)
    {
        // Studies are large: no request body limit (the default 30 MB is for forms), as for /api/uploads.
        group.MapPost("/studies", StoreInstances)
            .WithName(nameof(StoreInstances))
            .WithMetadata(new DisableRequestSizeLimitAttribute());
        group.MapPost("/studies/{study}", StoreStudyInstances)
            .WithName(nameof(StoreStudyInstances))
            .WithMetadata(new DisableRequestSizeLimitAttribute());
        return group;
    }

    /// <summary>What a STOW-RS request needs besides the request itself: ingest, the caller's access and the audit trail.</summary>
    public sealed record StowServices(IIngestService Ingest, IProjectCatalog Projects, ICurrentCaller Caller, IngestAccess Access, IAuditTrail Audit,
        ILoggerFactory Logs);

    public static Task<IResult> StoreInstances(HttpRequest request, [AsParameters] StowServices services, string? project, string? dataset,
        CancellationToken ct) =>
        StoreAsync(request, null, services, project, dataset, ct);

    public static Task<IResult> StoreStudyInstances(HttpRequest request, string study, [AsParameters] StowServices services, string? project,
        string? dataset, CancellationToken ct) =>
        StoreAsync(request, study, services, project, dataset, ct);

    private static async Task<IResult> StoreAsync(HttpRequest request, string? study, StowServices services, string? project, string? dataset,
        CancellationToken ct)
    {
        var (ingest, projects, logs) = (services.Ingest, services.Projects, services.Logs);
        var logger = logs.CreateLogger(typeof(StowApi).FullName!);
        IResult Problem(int status, string detail)
        {
            logger.LogWarning("STOW-RS request refused with {Status}: {Detail} (Content-Type {ContentType})", status, detail, request.ContentType);
            return TypedResults.Problem(detail, statusCode: status);
        }

        if (!AcceptsDicomJson(request))
            return Problem(StatusCodes.Status406NotAcceptable,
                $"STOW-RS answers in {DicomJson} only (application/dicom+xml is not supported); accept {DicomJson} or application/json.");
        var (boundary, status, error) = ParseContentType(request.ContentType);
        if (boundary is null) return Problem(status, error!);
        if (study is not null && !IsUid(study))
            return Problem(StatusCodes.Status400BadRequest, $"'{study}' is not a Study Instance UID.");

        var context = new IngestContext
        {
            Source = IngestSource.Stow,
            UploadUser = request.HttpContext.User.Identity?.Name,
            PeerAddress = request.HttpContext.Connection.RemoteIpAddress is { } ip
                ? new IPEndPoint(ip, request.HttpContext.Connection.RemotePort).ToString() : null,
            Project = string.IsNullOrWhiteSpace(project) ? null : project,
            Dataset = string.IsNullOrWhiteSpace(dataset) ? null : dataset,
            RequiredStudyInstanceUid = study,
        };
        if (context.Dataset is not null && context.Project is null)
            return Problem(StatusCodes.Status400BadRequest, "'dataset' needs 'project': a dataset is named within its project.");
        var (target, targetError) = await projects.ResolveIngestTargetAsync(context, ct);
        if (target is null && context.Project is not null) return Problem(StatusCodes.Status400BadRequest, $"Nothing stored: {targetError}.");
        var caller = await services.Caller.GetAsync(ct);
        if (target is not null && !caller.Can(target.ProjectId, ProjectPermission.Curate))
        {
            var where = context.Project is null ? "default project" : "project:" + context.Project;
            services.Audit.Audit(request.HttpContext, caller, AuditActions.StowStore, where, AuditOutcomes.Denied, new { reason = "no Curate permission" });
            // A project the caller cannot see is answered exactly as one that does not exist.
            if (context.Project is not null && !caller.Can(target.ProjectId, ProjectPermission.Read))
                return Problem(StatusCodes.Status400BadRequest, $"Nothing stored: {UnknownTarget(context.Project, context.Dataset)}.");
            return Problem(StatusCodes.Status403Forbidden, context.Project is null
                ? "Nothing stored: without ?project= instances go to the default project, where you may not store; name one of your projects with ?project=."
                : $"Nothing stored: storing into project '{context.Project}' needs the Researcher role in it.");
        }
        context = context with { Admission = services.Access.AdmissionFor(caller) };

        var studiesUrl = $"{request.Scheme}://{request.Host}{request.PathBase}{DicomWebExtensions.BasePath}/studies";
        var response = new StowResponse(studiesUrl, study);
        var parts = new MultipartParts(boundary, request.Body);
        while (await parts.NextAsync(ct) is { } section)
        {
            int part = parts.Count;
            var body = new MultipartPartStream(section.Body);
            if (!IsDicomPart(section.ContentType))
            {
                response.AddFailure(null, null, DicomStatus.CannotUnderstand,
                    $"part {part}: Content-Type '{section.ContentType}' is not application/dicom; the part was skipped");
                try
                {
                    await body.CopyToAsync(Stream.Null, ct);
                    continue;
                }
                catch (IOException)
                {
                    response.SetBodyError($"malformed multipart body in part {part}: {parts.Describe(body.Fault!)}");
                    break;
                }
            }

            var result = await ingest.IngestAsync(body, context, ct);
            if (body.Fault is { } fault)
            {
                // The pipeline saw the request body break off and stored nothing of this part; the stream cannot go on.
                response.SetBodyError($"part {part} is incomplete and was not stored: {parts.Describe(fault)}");
                break;
            }
            response.Add(result, part);
        }
        if (parts.Damage is { } damage)
        {
            if (parts.Count == 0) return Problem(StatusCodes.Status400BadRequest, damage + ".");
            response.SetBodyError(damage);
        }

        if (parts.Count == 0)
            return Problem(StatusCodes.Status400BadRequest, "The multipart body holds no parts.");
        if (response.Failed > 0)
            logger.LogWarning("STOW-RS: {Stored} instances stored, {Failed} failed (HTTP {Status})", response.Stored, response.Failed, response.StatusCode);
        services.Audit.Audit(request.HttpContext, caller, AuditActions.StowStore, context.Project is null ? "default project" : "project:" + context.Project,
            response.Failed == 0 ? AuditOutcomes.Success
            : response.Stored > 0 ? AuditOutcomes.Partial
            : response.Refused == response.Failed ? AuditOutcomes.Denied : AuditOutcomes.Failure,
            new { stored = response.Stored, failed = response.Failed, refused = response.Refused, studies = response.Studies, dataset = context.Dataset });
        return new DicomJsonResult(response.StatusCode, response.ToJson());
    }

    /// <summary>The words <see cref="ProjectCatalog.ResolveIngestTargetAsync"/> uses for a project (or dataset) that does not exist.</summary>
    private static string UnknownTarget(string project, string? dataset) =>
        dataset is null ? $"unknown project '{project}'" : $"unknown project '{project}' or dataset '{dataset}'";

    /// <summary>No Accept, or one that allows application/dicom+json (directly, as application/json, or by a wildcard).</summary>
    private static bool AcceptsDicomJson(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0) return true;
        return accept.Any(a => a.Quality is not 0 && a.MediaType.Value?.ToLowerInvariant() is
            DicomJson or "application/json" or "application/*" or "*/*");
    }

    /// <returns>The boundary, or null with the status (415, 400) and message to answer.</returns>
    private static (string? Boundary, int Status, string? Error) ParseContentType(string? contentType)
    {
        const string expected = "send multipart/related; type=\"application/dicom\"; boundary=...";
        if (string.IsNullOrWhiteSpace(contentType))
            return (null, StatusCodes.Status415UnsupportedMediaType, $"The request has no Content-Type; {expected}.");
        if (!LenientMediaType.TryParse(contentType, out var media) || media is null)
            return (null, StatusCodes.Status415UnsupportedMediaType, $"Content-Type '{contentType}' cannot be parsed; {expected}.");
        if (!media.MediaType.Equals("multipart/related", StringComparison.OrdinalIgnoreCase))
            return (null, StatusCodes.Status415UnsupportedMediaType, $"Content-Type '{media.MediaType}' is not supported; {expected}.");
        var type = media.Parameters.FirstOrDefault(p => p.Name.Equals("type", StringComparison.OrdinalIgnoreCase));
        if (type is not null && !HeaderUtilities.RemoveQuotes(type.Value).Equals("application/dicom", StringComparison.OrdinalIgnoreCase))
            return (null, StatusCodes.Status415UnsupportedMediaType,
                $"multipart/related of type '{HeaderUtilities.RemoveQuotes(type.Value)}' is not supported (only Part 10 instances, type=\"application/dicom\").");
        var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
            return (null, StatusCodes.Status400BadRequest, $"Content-Type has no boundary; {expected}.");
        if (boundary.Length > MaxBoundaryLength)
            return (null, StatusCodes.Status400BadRequest, $"The boundary is longer than {MaxBoundaryLength} characters.");
        return (boundary, 0, null);
    }

    private static bool IsDicomPart(string? contentType) =>
        string.IsNullOrWhiteSpace(contentType)
        || (LenientMediaType.TryParse(contentType, out var media) && media is not null
            && (media.MediaType.Equals("application/dicom", StringComparison.OrdinalIgnoreCase)
                || media.MediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase)));

    /// <summary>PS3.5 9.1: up to 64 characters, digits and dots.</summary>
    private static bool IsUid(string s) => s.Length is > 0 and <= 64 && s.All(c => c is '.' or (>= '0' and <= '9'));

    /// <summary>A DICOM JSON body with a chosen status (the typed results offer no status for raw bytes).</summary>
    private sealed class DicomJsonResult(int statusCode, byte[] json) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = statusCode;
            httpContext.Response.ContentType = DicomJson;
            httpContext.Response.ContentLength = json.Length;
            return httpContext.Response.Body.WriteAsync(json).AsTask();
        }
    }
}
