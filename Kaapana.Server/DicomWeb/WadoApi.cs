using Kaapana.Core.Access;
using Kaapana.Core.Archive.Retrieve;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging.Codecs;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// WADO-RS (PS3.18 10.4): studies, series and instances as <c>multipart/related; type="application/dicom"</c>, their
/// metadata as DICOM JSON, frames, bulk data, and rendered images and thumbnails (<see cref="WadoRenderedApi"/>), all
/// answered from the index and the archived files. Responses are streamed file by file with buffering off.
/// <para>Access: every resource is seen from the caller's readable projects (<see cref="ReadScopeAsync"/>): a study shows only
/// its visible series, and a study, series or instance the caller may not read answers exactly as one that does not exist.
/// Reading a study's instances, metadata, frames, bulk data or rendered images is audited as opening it, once per user and
/// study per few minutes (<see cref="StudyOpenAudit"/>); thumbnails are not (study lists show many).</para>
/// </summary>
public static class WadoApi
{
    public static IServiceCollection AddWado(this IServiceCollection services)
    {
        services.AddSingleton<IInstanceRetrieval, InstanceRetrieval>();
        services.AddSingleton<StudyOpenAudit>();
        return services;
    }

    public static RouteGroupBuilder MapWado(this RouteGroupBuilder group)
    {
        const string Study = "/studies/{study}", Series = Study + "/series/{series}", Instance = Series + "/instances/{instance}";
        group.MapGet(Study, RetrieveStudy);
        group.MapGet(Series, RetrieveSeries);
        group.MapGet(Instance, RetrieveInstance);
        group.MapGet(Study + "/metadata", StudyMetadata);
        group.MapGet(Series + "/metadata", SeriesMetadata);
        group.MapGet(Instance + "/metadata", InstanceMetadata);
        group.MapGet(Instance + "/frames/{frames}", WadoFramesApi.RetrieveFrames);
        group.MapGet(Instance + "/bulkdata/{**path}", WadoFramesApi.RetrieveBulkData);
        WadoRenderedApi.Map(group, Study, Series, Instance);
        return group;
    }

    /// <summary>The DICOMweb root as the client reached it (for BulkDataURIs).</summary>
    public static string BaseUri(HttpRequest r) => $"{r.Scheme}://{r.Host}{r.PathBase}{DicomWebExtensions.BasePath}";

    /// <summary>The caller, and the retrieval target as that caller sees it (only the projects it may read).</summary>
    public static async Task<(AccessScope Caller, RetrieveScope Scope)> ReadScopeAsync(ICurrentCaller caller, RetrieveScope target, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        return (scope, target with { Projects = scope.ProjectsWith(ProjectPermission.Read) });
    }

    public static Task<IResult> RetrieveStudy(string study, HttpContext context, IInstanceRetrieval retrieval, ICurrentCaller caller, StudyOpenAudit opens,
        ILogger<WadoStreamResult> logger, CancellationToken ct) =>
        Retrieve(new RetrieveScope(study), context, retrieval, caller, opens, logger, ct);

    public static Task<IResult> RetrieveSeries(string study, string series, HttpContext context, IInstanceRetrieval retrieval, ICurrentCaller caller,
        StudyOpenAudit opens, ILogger<WadoStreamResult> logger, CancellationToken ct) =>
        Retrieve(new RetrieveScope(study, series), context, retrieval, caller, opens, logger, ct);

    public static Task<IResult> RetrieveInstance(string study, string series, string instance, HttpContext context, IInstanceRetrieval retrieval,
        ICurrentCaller caller, StudyOpenAudit opens, ILogger<WadoStreamResult> logger, CancellationToken ct) =>
        Retrieve(new RetrieveScope(study, series, instance), context, retrieval, caller, opens, logger, ct);

    public static Task<IResult> StudyMetadata(string study, HttpContext context, IInstanceRetrieval retrieval, ICurrentCaller caller, StudyOpenAudit opens,
        ILogger<WadoStreamResult> logger, CancellationToken ct) =>
        Metadata(new RetrieveScope(study), context, retrieval, caller, opens, logger, ct);

    public static Task<IResult> SeriesMetadata(string study, string series, HttpContext context, IInstanceRetrieval retrieval, ICurrentCaller caller,
        StudyOpenAudit opens, ILogger<WadoStreamResult> logger, CancellationToken ct) =>
        Metadata(new RetrieveScope(study, series), context, retrieval, caller, opens, logger, ct);

    public static Task<IResult> InstanceMetadata(string study, string series, string instance, HttpContext context, IInstanceRetrieval retrieval,
        ICurrentCaller caller, StudyOpenAudit opens, ILogger<WadoStreamResult> logger, CancellationToken ct) =>
        Metadata(new RetrieveScope(study, series, instance), context, retrieval, caller, opens, logger, ct);

    private static async Task<IResult> Retrieve(RetrieveScope target, HttpContext context, IInstanceRetrieval retrieval, ICurrentCaller caller,
        StudyOpenAudit opens, ILogger logger, CancellationToken ct)
    {
        var representation = WadoNegotiation.ForInstances(context.Request.Headers.Accept);
        if (representation is null)
            return WadoProblems.NotAcceptable(
                "Instances are sent as multipart/related; type=\"application/dicom\", with transfer-syntax=* (as stored), none (Explicit VR Little Endian) " +
                $"or one of: {string.Join(", ", DicomTransferSyntax.Uncompressed.Concat(WadoNegotiation.Encodable).Select(t => t.Uid).Distinct())}.");
        var (who, scope) = await ReadScopeAsync(caller, target, ct);
        var found = await retrieval.FindAsync(scope, ct);
        if (!found.Found) return WadoProblems.NotFound(found.NotFound!);
        opens.Opened(who, scope.StudyInstanceUID, "instances", context);

        return new WadoStreamResult(async (http, token) =>
        {
            var boundary = MultipartRelatedWriter.NewBoundary();
            // The first file is opened before the status line goes out, so a missing file is still a clean 404.
            var first = retrieval.OpenRead(found.Instances[0]);
            http.Response.ContentType = MultipartRelatedWriter.ContentType(WadoNegotiation.DicomMediaType, boundary);
            var writer = new MultipartRelatedWriter(http.Response.Body, boundary);
            for (int i = 0; i < found.Instances.Count; i++)
            {
                var instance = found.Instances[i];
                Stream? opened = i == 0 ? first : null;
                try
                {
                    await WriteInstanceAsync(writer, instance, representation.Syntax, retrieval, opened, logger, token);
                }
                catch (Exception ex) when (i > 0 && ex is FileNotFoundException or DirectoryNotFoundException)
                {
                    // Later files: leave the lost one out rather than cut the whole study short.
                    logger.LogWarning("WADO-RS: the file of {Sop} is missing from the archive; left out of the response", instance.SOPInstanceUID);
                }
            }
            await writer.CompleteAsync(token);
        });
    }

    /// <summary>
    /// The stored bytes when they already are what was asked for (always for "*"); otherwise the file transcoded in memory,
    /// one instance at a time. An instance that cannot be converted goes out as stored, its part labelled with its syntax.
    /// </summary>
    private static async Task WriteInstanceAsync(MultipartRelatedWriter writer, StoredInstance instance, DicomTransferSyntax? target,
        IInstanceRetrieval retrieval, Stream? opened, ILogger logger, CancellationToken ct)
    {
        if (target is null || target.Uid == instance.TransferSyntaxUID)
        {
            await using var s = opened ?? retrieval.OpenRead(instance);
            await writer.WritePartAsync(WadoNegotiation.DicomContentType(instance.TransferSyntaxUID), s, s.CanSeek ? s.Length : null, ct);
            return;
        }
        if (opened is not null) await opened.DisposeAsync();
        byte[] converted;
        try
        {
            var file = retrieval.Read(instance);
            var result = DicomTranscoder.Transcode(file, target);
            using var ms = new MemoryStream();
            result.Save(ms, new DicomWriteOptions { TransferSyntax = target });
            converted = ms.ToArray();
        }
        catch (DicomException ex)
        {
            logger.LogWarning(ex, "WADO-RS: {Sop} cannot be converted from {From} to {To}; sent as stored", instance.SOPInstanceUID, instance.TransferSyntaxUID, target.Uid);
            await using var s = retrieval.OpenRead(instance);
            await writer.WritePartAsync(WadoNegotiation.DicomContentType(instance.TransferSyntaxUID), s, s.CanSeek ? s.Length : null, ct);
            return;
        }
        await writer.WritePartAsync(WadoNegotiation.DicomContentType(target.Uid), converted, ct);
    }

    private static async Task<IResult> Metadata(RetrieveScope target, HttpContext context, IInstanceRetrieval retrieval, ICurrentCaller caller,
        StudyOpenAudit opens, ILogger logger, CancellationToken ct)
    {
        if (!AcceptsJson(context.Request.Headers.Accept))
            return WadoProblems.NotAcceptable("Metadata is sent as application/dicom+json (or application/json).");
        var (who, scope) = await ReadScopeAsync(caller, target, ct);
        var found = await retrieval.FindAsync(scope, ct);
        if (!found.Found) return WadoProblems.NotFound(found.NotFound!);
        opens.Opened(who, scope.StudyInstanceUID, "metadata", context);
        var baseUri = BaseUri(context.Request);
        return new WadoStreamResult((http, token) => WadoMetadataWriter.WriteAsync(http, retrieval, found.Instances, baseUri, logger, token));
    }

    private static bool AcceptsJson(Microsoft.Extensions.Primitives.StringValues accept)
    {
        if (Microsoft.Extensions.Primitives.StringValues.IsNullOrEmpty(accept)) return true;
        if (!LenientMediaType.TryParseList(accept, out var list)) return false;
        return list.Any(m => (m.Quality ?? 1) > 0 && m.MediaType.Value?.ToLowerInvariant() is "*/*" or "application/*" or "application/dicom+json" or "application/json");
    }
}
