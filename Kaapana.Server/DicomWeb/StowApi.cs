using System.Net;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Projects;
using Kaapana.Dicom.Network;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
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

    public static Task<IResult> StoreInstances(HttpRequest request, IIngestService ingest, IProjectCatalog projects, ILoggerFactory logs,
        string? project, string? dataset, CancellationToken ct) =>
        StoreAsync(request, null, ingest, projects, logs, project, dataset, ct);

    public static Task<IResult> StoreStudyInstances(HttpRequest request, string study, IIngestService ingest, IProjectCatalog projects,
        ILoggerFactory logs, string? project, string? dataset, CancellationToken ct) =>
        StoreAsync(request, study, ingest, projects, logs, project, dataset, ct);

    private static async Task<IResult> StoreAsync(HttpRequest request, string? study, IIngestService ingest, IProjectCatalog projects,
        ILoggerFactory logs, string? project, string? dataset, CancellationToken ct)
    {
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
        if (context.Project is not null && (await projects.ResolveIngestTargetAsync(context, ct)).Error is { } targetError)
            return Problem(StatusCodes.Status400BadRequest, $"Nothing stored: {targetError}.");

        var studiesUrl = $"{request.Scheme}://{request.Host}{request.PathBase}{DicomWebExtensions.BasePath}/studies";
        var response = new StowResponse(studiesUrl, study);
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
        int part = 0;
        while (true)
        {
            MultipartSection? section;
            try
            {
                section = await reader.ReadNextSectionAsync(ct);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                if (part == 0)
                    return Problem(StatusCodes.Status400BadRequest, $"Malformed multipart body, no part could be read: {Describe(ex, boundary)}.");
                response.SetBodyError($"malformed multipart body after part {part}: {Describe(ex, boundary)}");
                break;
            }
            if (section is null) break;
            part++;

            var body = new StowPartStream(section.Body);
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
                    response.SetBodyError($"malformed multipart body in part {part}: {Describe(body.Fault!, boundary)}");
                    break;
                }
            }

            var result = await ingest.IngestAsync(body, context, ct);
            if (body.Fault is { } fault)
            {
                // The pipeline saw the request body break off and stored nothing of this part; the stream cannot go on.
                response.SetBodyError($"part {part} is incomplete and was not stored: {Describe(fault, boundary)}");
                break;
            }
            response.Add(result, part);
        }

        if (part == 0)
            return Problem(StatusCodes.Status400BadRequest, "The multipart body holds no parts.");
        if (response.Failed > 0)
            logger.LogWarning("STOW-RS: {Stored} instances stored, {Failed} failed (HTTP {Status})", response.Stored, response.Failed, response.StatusCode);
        return new DicomJsonResult(response.StatusCode, response.ToJson());
    }

    /// <summary>The reader's own words for a premature end ("may have already been read by another component") mislead a client.</summary>
    private static string Describe(Exception ex, string boundary) => ex is IOException
        ? $"the body ended before the closing boundary \"--{boundary}--\""
        : ex.Message;

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
