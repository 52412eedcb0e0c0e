using System.IO.Compression;
using Kaapana.Core;
using Kaapana.Core.Access;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Audit;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Server.Multipart;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Kaapana.Server.Apis;

/// <summary>
/// <c>POST /api/uploads</c>: one or many DICOM files and/or zip archives as multipart/form-data, each part streamed
/// into the ingest pipeline (never buffered whole). Answers per file what was stored and what was rejected, and why.
/// A damaged body (truncated, no closing boundary) answers 400 ProblemDetails whose <c>files</c>, <c>accepted</c> and
/// <c>rejected</c> list what the parts received whole before the damage gave (those files stay stored, as in STOW-RS);
/// the part the damage cut is not stored. Zip entries are read as streams, never extracted, so their names
/// (<c>../</c>, absolute paths) are labels only.
/// </summary>
public static class UploadsApi
{
    public sealed record UploadedFile(string Name, string Status, string? SopInstanceUid, string? Reason);

    public sealed record UploadResponse(int Accepted, int Rejected, IReadOnlyList<UploadedFile> Files);

    public static IEndpointRouteBuilder MapUploadsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/uploads", PostUpload)
            .WithName(nameof(PostUpload))
            .WithTags("Archive")
            .DisableAntiforgery();
        return app;
    }

    /// <returns>200 when every file was stored (or already present), 400 when none was, 207 when some were.</returns>
    public static async Task<IResult> PostUpload(
        HttpRequest request, IIngestService ingest, IOptions<KaapanaOptions> options, ILoggerFactory logs,
        IProjectCatalog catalog, ICurrentCaller caller, IngestAccess ingestAccess, IAuditTrail audit, string? project, string? dataset, CancellationToken ct)
    {
        // Curate in the target project (the default project when none is named), decided before the body is read. A project the
        // caller cannot see answers exactly as one that does not exist.
        var scope = await caller.GetAsync(ct);
        var targetName = string.IsNullOrWhiteSpace(project) ? options.Value.Archive.DefaultProject : project.Trim();
        if (await catalog.FindVisibleProjectAsync(targetName, scope, ct) is not { } target)
            return TypedResults.Problem($"There is no project '{targetName}'.", statusCode: StatusCodes.Status404NotFound);
        if (!scope.Can(target.Id, ProjectPermission.Curate))
            return audit.Denied(request.HttpContext, scope, AuditActions.Upload, $"project:{target.Name}");

        var logger = logs.CreateLogger(typeof(UploadsApi).FullName!);
        // Studies are large: the default 30 MB request limit is for forms, not for this endpoint.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = null;

        var boundary = request.ContentType is { } ct0 && MediaTypeHeaderValue.TryParse(ct0, out var media)
            ? HeaderUtilities.RemoveQuotes(media.Boundary).Value
            : null;
        if (string.IsNullOrEmpty(boundary) || request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) != true)
            return TypedResults.Problem("Send the files as multipart/form-data.", statusCode: StatusCodes.Status415UnsupportedMediaType);

        var context = new IngestContext
        {
            Source = IngestSource.Upload,
            PeerAddress = request.HttpContext.Connection.RemoteIpAddress?.ToString(),
            UploadUser = scope.UserName,
            Project = target.Name,
            Dataset = string.IsNullOrWhiteSpace(dataset) ? null : dataset,
            // Never attach an upload to a series or study the uploader cannot see (it would hand them that data).
            Admission = ingestAccess.AdmissionFor(scope),
        };
        var files = new List<UploadedFile>();
        var parts = new MultipartParts(boundary, request.Body);
        string? damage = null;
        while (await parts.NextAsync(ct) is { } section)
        {
            var name = section.AsFileSection()?.FileName is { Length: > 0 } fn ? Path.GetFileName(fn) : $"part{parts.Count}";
            var body = new MultipartPartStream(section.Body);
            IngestResult? result = null;
            try
            {
                if (name.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
                    await IngestZipAsync(body, name, ingest, context, options.Value, files, ct);
                else
                    result = await ingest.IngestAsync(body, context, ct);
            }
            catch (IOException) when (body.Fault is not null)
            {
                // The zip spool could not be filled: the body broke off inside it (reported below).
            }
            if (body.Fault is { } fault)
            {
                // The body broke off inside this part: nothing of it was stored (a cut instance can parse as a shorter valid one).
                damage = $"part {parts.Count} ('{name}') is incomplete and was not stored: {parts.Describe(fault)}";
                break;
            }
            if (result is not null) files.Add(ToFile(name, result));
        }
        damage ??= parts.Damage;

        int accepted = files.Count(f => f.Status is "stored" or "duplicate");
        var response = new UploadResponse(accepted, files.Count - accepted, files);
        audit.Audit(request.HttpContext, scope, AuditActions.Upload, $"project:{target.Name}" + (context.Dataset is { } ds ? $" dataset:{ds}" : ""),
            damage is not null || accepted < files.Count ? AuditOutcomes.Partial : AuditOutcomes.Success,
            new { files = files.Count, accepted, rejected = files.Count - accepted, damaged = damage is not null });
        if (damage is not null)
        {
            // As STOW-RS does: the request is bad (400), but files received whole before the damage stay stored and are listed.
            logger.LogWarning("Upload: damaged multipart body after {Accepted} files accepted: {Damage}", accepted, damage);
            return TypedResults.Problem(damage, statusCode: StatusCodes.Status400BadRequest, extensions: new Dictionary<string, object?>
            {
                ["accepted"] = response.Accepted,
                ["rejected"] = response.Rejected,
                ["files"] = response.Files,
            });
        }
        if (files.Count == 0)
            return TypedResults.Problem("The request holds no files.", statusCode: StatusCodes.Status400BadRequest);
        if (files.Any(f => f.Status == "out-of-space"))
            return TypedResults.Json(response, statusCode: StatusCodes.Status507InsufficientStorage);
        return TypedResults.Json(response, statusCode: accepted == files.Count ? StatusCodes.Status200OK
            : accepted == 0 ? StatusCodes.Status400BadRequest : StatusCodes.Status207MultiStatus);
    }

    /// <summary>A zip needs random access, so it is spooled to a temp file inside the data directory first; entries are ingested one by one.</summary>
    private static async Task IngestZipAsync(Stream body, string zipName, IIngestService ingest, IngestContext context,
        KaapanaOptions options, List<UploadedFile> files, CancellationToken ct)
    {
        var spoolDir = Path.Combine(Path.GetFullPath(options.DataDir), "uploads");
        Directory.CreateDirectory(spoolDir);
        var spool = Path.Combine(spoolDir, $"{Guid.NewGuid():N}.zip");
        try
        {
            await using (var fs = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
                await body.CopyToAsync(fs, ct);
            ZipArchive zip;
            try
            {
                zip = new ZipArchive(new FileStream(spool, FileMode.Open, FileAccess.Read, FileShare.Read, 81920), ZipArchiveMode.Read);
            }
            catch (InvalidDataException ex)
            {
                files.Add(new UploadedFile(zipName, "rejected", null, $"not a readable zip archive: {ex.Message}"));
                return;
            }
            using (zip)
            {
                foreach (var entry in zip.Entries)
                {
                    if (entry.FullName.EndsWith('/')) continue; // directory entry
                    // Entry names are only reported, never used as paths, so traversal names cannot escape anything.
                    var label = $"{zipName}/{entry.FullName}";
                    try
                    {
                        await using var es = entry.Open();
                        files.Add(ToFile(label, await ingest.IngestAsync(es, context, ct)));
                    }
                    catch (InvalidDataException ex)
                    {
                        files.Add(new UploadedFile(label, "rejected", null, $"corrupt zip entry: {ex.Message}"));
                    }
                }
            }
        }
        finally
        {
            File.Delete(spool);
        }
    }

    private static UploadedFile ToFile(string name, IngestResult r) => new(
        name,
        r.Status switch
        {
            IngestStatus.Stored => "stored",
            IngestStatus.Duplicate => "duplicate",
            IngestStatus.Rejected => "rejected",
            _ when r.Failure == IngestFailure.OutOfResources => "out-of-space",
            _ => "failed",
        },
        r.SopInstanceUid,
        r.Reason);
}
