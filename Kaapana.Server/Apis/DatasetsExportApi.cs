using Kaapana.Core.Access;
using Kaapana.Core.Audit;
using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Export;
using Kaapana.Core.Archive.Projects;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>
/// Datasets and frozen versions as zip downloads, streamed (never built in memory or on disk first), with progress a page can
/// poll: <c>?token=</c> from <see cref="ZipExportRegistry.Create"/> ties a download to <c>GET /api/exports/{token}</c>.
/// </summary>
public static class DatasetsExportApi
{
    public sealed record ExportSize(int Instances, long Bytes);

    public static IEndpointRouteBuilder MapDatasetsExportApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Export");
        api.MapGet("/datasets/{id:int}/zip", DatasetZip);
        api.MapGet("/datasets/{id:int}/zip/size", DatasetZipSize);
        api.MapGet("/versions/{id:long}/zip", VersionZip);
        api.MapPost("/exports", CreateExport);
        api.MapGet("/exports/{token}", GetExport);
        return app;
    }

    public sealed record CreateExportRequest(string? Label);

    /// <summary>A token for one download's progress (scripts may skip it; the UI makes its tokens in-process).</summary>
    public static async Task<Ok<ZipExportStatus>> CreateExport(CreateExportRequest? request, ZipExportRegistry registry, ICurrentCaller caller, CancellationToken ct)
    {
        var token = registry.Create(request?.Label ?? "export", owner: (await caller.GetAsync(ct)).UserId);
        return TypedResults.Ok(registry.Get(token)!);
    }

    /// <summary>Another user's token answers exactly as an unknown one.</summary>
    public static async Task<Results<Ok<ZipExportStatus>, NotFound<ProblemDetails>>> GetExport(string token, ZipExportRegistry registry, ICurrentCaller caller,
        CancellationToken ct) =>
        ZipExportRegistry.IsToken(token) && registry.GetFor(token, (await caller.GetAsync(ct)).UserId) is { } s
            ? TypedResults.Ok(s)
            : TypedResults.NotFound(new ProblemDetails { Title = "No such export (tokens expire an hour after their last use)." });

    private static NotFound<ProblemDetails> NoDataset(int id) => TypedResults.NotFound(new ProblemDetails { Title = $"There is no dataset {id}." });

    public static async Task<Results<Ok<ExportSize>, NotFound<ProblemDetails>>> DatasetZipSize(int id, IProjectCatalog catalog, IDatasetQueries datasets,
        SeriesZipWriter writer, ICurrentCaller caller, IAccessControl access, CancellationToken ct)
    {
        // An invisible dataset is as absent as a nonexistent one (same status, same message).
        if (!await access.CanDatasetAsync(await caller.GetAsync(ct), id, ProjectPermission.Read, ct) || await datasets.GetAsync(id, ct) is null) return NoDataset(id);
        var (instances, bytes) = await writer.MeasureAsync(await catalog.GetDatasetSeriesAsync(id, ct), ct);
        return TypedResults.Ok(new ExportSize(instances, bytes));
    }

    public static async Task<IResult> DatasetZip(int id, string? token, HttpContext http, IProjectCatalog catalog, IDatasetQueries datasets,
        SeriesZipWriter writer, ZipExportRegistry registry, IAuditTrail audit, ICurrentCaller caller, IAccessControl access)
    {
        var ct = http.RequestAborted;
        var scope = await caller.GetAsync(ct);
        if (!await access.CanDatasetAsync(scope, id, ProjectPermission.Read, ct) || await datasets.GetAsync(id, ct) is not { } dataset) return NoDataset(id);
        var series = await catalog.GetDatasetSeriesAsync(id, ct);
        return await StreamAsync(http, scope, $"{dataset.Project}-{dataset.Name}", series, null, token, writer, registry, audit);
    }

    public static async Task<IResult> VersionZip(long id, string? token, HttpContext http, IDatasetQueries datasets, IProjectCatalog catalog,
        SeriesZipWriter writer, ZipExportRegistry registry, IAuditTrail audit, ICurrentCaller caller)
    {
        var ct = http.RequestAborted;
        var scope = await caller.GetAsync(ct);
        if (await catalog.GetVersionAsync(id, ct) is not { } version || !scope.Can(version.ProjectId, ProjectPermission.Read)
            || await datasets.VersionContentAsync(id, ct) is not { } content)
            return TypedResults.NotFound(new ProblemDetails { Title = $"There is no dataset version {id}." });
        return await StreamAsync(http, scope, content.Label, content.SeriesUids, content.InstanceUids, token, writer, registry, audit);
    }

    private static async Task<IResult> StreamAsync(HttpContext http, AccessScope scope, string label, IReadOnlyCollection<string> series,
        IReadOnlySet<string>? instances, string? token, SeriesZipWriter writer, ZipExportRegistry registry, IAuditTrail audit)
    {
        // Another user's token is as unknown as a made-up one: it must not let anyone watch (or spoil) someone else's download.
        if (token is not null && (!ZipExportRegistry.IsToken(token) || registry.GetFor(token, scope.UserId) is null))
            return TypedResults.BadRequest(new ProblemDetails { Title = "Unknown export token: create one with POST /api/exports, or leave it out." });
        var ct = http.RequestAborted;
        var response = http.Response;
        response.ContentType = "application/zip";
        var file = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment");
        file.SetHttpFileName(SeriesZipWriter.SafeComponent(label) + ".zip");
        response.Headers.ContentDisposition = file.ToString();
        response.Headers.CacheControl = "no-store";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        // Reports at most every 100 ms worth of instances would be nicer; a dictionary write per instance is cheap enough.
        IProgress<ZipExportProgress>? progress = token is null ? null : new InlineProgress(p => registry.Report(token, p));
        void Audit(string outcome, object details) => audit.Audit(http, scope, AuditActions.ZipExport, label, outcome, details);
        try
        {
            var summary = await writer.WriteAsync(series, response.Body, progress, ct, instances);
            if (token is not null) registry.Finish(token, ZipExportState.Done);
            Audit(AuditOutcomes.Success, new { series = summary.Series, instances = summary.Instances, bytes = summary.Bytes });
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The browser went away (download cancelled): the writer stopped at its next entry; nothing more to send.
            if (token is not null) registry.Finish(token, ZipExportState.Cancelled);
            Audit(AuditOutcomes.Partial, new { series = series.Count, cancelled = true });
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            if (token is not null) registry.Finish(token, ZipExportState.Failed, e.Message);
            Audit(AuditOutcomes.Failure, new { series = series.Count, error = e.Message });
            if (!response.HasStarted) return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status500InternalServerError);
            http.Abort();
        }
        return TypedResults.Empty;
    }

    /// <summary>Reports on the writer's thread (Progress&lt;T&gt; would post to a thread pool, out of order).</summary>
    private sealed class InlineProgress(Action<ZipExportProgress> report) : IProgress<ZipExportProgress>
    {
        public void Report(ZipExportProgress value) => report(value);
    }
}
