using Kaapana.Core.Access;
using Kaapana.Core.Archive.Query;
using Kaapana.Dicom.Network.Query;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// QIDO-RS (PS3.18 10.6): search for studies, series and instances, answered by <see cref="IndexSearch"/> exactly as C-FIND
/// (Study Root, relational) answers the same keys. Parameters and choices: Qido.md in this folder.
/// <para>Access: the search runs in the caller's readable projects (<see cref="IndexSearchOptions.ProjectIds"/>): what lies
/// outside them is not matched, not counted and not named; a caller with no project gets an empty result.</para>
/// </summary>
public static class QidoApi
{
    public static IServiceCollection AddQido(this IServiceCollection services)
    {
        services.TryAddSingleton<IndexSearch>();
        services.AddOptions<QidoOptions>().BindConfiguration(QidoOptions.SectionName)
            .Validate(o => o.MaxLimit > 0 && o.DefaultLimit is null or > 0 && (o.DefaultLimit ?? 0) <= o.MaxLimit,
                "Kaapana:DicomWeb:Qido: MaxLimit must be positive and DefaultLimit between 1 and MaxLimit.")
            .ValidateOnStart();
        return services;
    }

    public static RouteGroupBuilder MapQido(this RouteGroupBuilder group)
    {
        group.MapGet("/studies", SearchForStudies).WithName(nameof(SearchForStudies));
        group.MapGet("/series", SearchForAllSeries).WithName(nameof(SearchForAllSeries));
        group.MapGet("/studies/{study}/series", SearchForSeries).WithName(nameof(SearchForSeries));
        group.MapGet("/instances", SearchForAllInstances).WithName(nameof(SearchForAllInstances));
        group.MapGet("/studies/{study}/instances", SearchForStudyInstances).WithName(nameof(SearchForStudyInstances));
        group.MapGet("/studies/{study}/series/{series}/instances", SearchForInstances).WithName(nameof(SearchForInstances));
        return group;
    }

    public static Task<IResult> SearchForStudies(HttpContext http, IndexSearch search, IOptions<QidoOptions> options, ICurrentCaller caller, CancellationToken ct) =>
        SearchAsync(new QidoResource(QueryRetrieveLevel.Study), http, search, options.Value, caller, ct);

    public static Task<IResult> SearchForAllSeries(HttpContext http, IndexSearch search, IOptions<QidoOptions> options, ICurrentCaller caller, CancellationToken ct) =>
        SearchAsync(new QidoResource(QueryRetrieveLevel.Series), http, search, options.Value, caller, ct);

    public static Task<IResult> SearchForSeries(string study, HttpContext http, IndexSearch search, IOptions<QidoOptions> options, ICurrentCaller caller,
        CancellationToken ct) =>
        SearchAsync(new QidoResource(QueryRetrieveLevel.Series, study), http, search, options.Value, caller, ct);

    public static Task<IResult> SearchForAllInstances(HttpContext http, IndexSearch search, IOptions<QidoOptions> options, ICurrentCaller caller, CancellationToken ct) =>
        SearchAsync(new QidoResource(QueryRetrieveLevel.Image), http, search, options.Value, caller, ct);

    public static Task<IResult> SearchForStudyInstances(string study, HttpContext http, IndexSearch search, IOptions<QidoOptions> options, ICurrentCaller caller,
        CancellationToken ct) =>
        SearchAsync(new QidoResource(QueryRetrieveLevel.Image, study), http, search, options.Value, caller, ct);

    public static Task<IResult> SearchForInstances(string study, string series, HttpContext http, IndexSearch search, IOptions<QidoOptions> options,
        ICurrentCaller caller, CancellationToken ct) => SearchAsync(new QidoResource(QueryRetrieveLevel.Image, study, series), http, search, options.Value, caller, ct);

    private static async Task<IResult> SearchAsync(QidoResource resource, HttpContext http, IndexSearch search, QidoOptions options, ICurrentCaller caller,
        CancellationToken ct)
    {
        if (!AcceptsDicomJson(http.Request))
            return Results.Problem(statusCode: StatusCodes.Status406NotAcceptable,
                detail: $"QIDO-RS answers {QidoResults.MediaType} (or application/json); Accept was '{http.Request.Headers.Accept}'.");
        if (!QidoQuery.TryParse(resource, http.Request.Query, options, out var query, out var error))
            return Results.Problem(detail: error, statusCode: StatusCodes.Status400BadRequest);
        var projects = (await caller.GetAsync(ct)).ProjectsWith(ProjectPermission.Read);
        var result = await search.SearchAsync(resource.Level, query!.Query,
            new IndexSearchOptions { Offset = query.Offset, Limit = query.Limit, FuzzyPersonNames = query.Fuzzy, ProjectIds = projects }, ct);
        var request = http.Request;
        return new QidoResults(query, result, $"{request.Scheme}://{request.Host}{request.PathBase}{DicomWebExtensions.BasePath}");
    }

    /// <summary>No Accept header, or one that allows DICOM JSON: application/dicom+json, application/json, application/*, */*.</summary>
    private static bool AcceptsDicomJson(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0) return true;
        return accept.Any(m => m.Quality is not 0 && m.MediaType.Value?.ToLowerInvariant() is QidoResults.MediaType or "application/json" or "application/*" or "*/*");
    }
}
