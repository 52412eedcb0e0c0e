using Kaapana.Core;
using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Archive.Tags;
using Kaapana.Core.Audit;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>Free-text tags on series: change them on a list of series, and autocomplete.</summary>
public static class TagsApi
{
    public sealed record TagChangeRequest(IReadOnlyList<string>? SeriesUids, IReadOnlyList<string>? Add, IReadOnlyList<string>? Remove, string? Project);

    public static IEndpointRouteBuilder MapTagsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Tags");
        api.MapPost("/series/tags", ChangeTags);
        api.MapGet("/tags", SuggestTags);
        return app;
    }

    /// <summary>The project's id when the caller can read it; an invisible project is answered like a nonexistent one.</summary>
    private static async Task<(int? Id, string Name)> VisibleProjectAsync(string? project, AccessScope scope, IProjectCatalog catalog,
        IOptions<KaapanaOptions> options, CancellationToken ct)
    {
        var name = string.IsNullOrWhiteSpace(project) ? options.Value.Archive.DefaultProject : project;
        return ((await catalog.FindVisibleProjectAsync(name, scope, ct))?.Id, name);
    }

    private static NotFound<ProblemDetails> NoProject(string name) => TypedResults.NotFound(new ProblemDetails { Title = $"There is no project '{name}'." });

    /// <summary>Needs Curate in the project and on the series; series the caller cannot see are ignored as UIDs not in the index are.</summary>
    public static async Task<Results<Ok<TagChangeResult>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ForbidHttpResult>> ChangeTags(
        TagChangeRequest request, ISeriesTagService tags, IProjectCatalog catalog, IArchiveQueries queries, ICurrentCaller caller,
        IOptions<KaapanaOptions> options, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        if (request.SeriesUids is not { Count: > 0 })
            return TypedResults.BadRequest(new ProblemDetails { Title = "seriesUids is required: the Series Instance UIDs to tag." });
        if ((request.Add?.Count ?? 0) + (request.Remove?.Count ?? 0) == 0)
            return TypedResults.BadRequest(new ProblemDetails { Title = "Nothing to do: give tags in add and/or remove." });
        var scope = await caller.GetAsync(ct);
        var (projectId, name) = await VisibleProjectAsync(request.Project, scope, catalog, options, ct);
        if (projectId is not { } id) return NoProject(name);
        var series = await queries.ClassifySeriesAsync(scope, request.SeriesUids, ProjectPermission.Curate, ct);
        if (!scope.Can(id, ProjectPermission.Curate) || series.VisibleOnly.Count > 0)
            return audit.Denied(http, scope, "series.tags", $"project:{name}");
        try
        {
            return TypedResults.Ok(await tags.ChangeAsync(series.Permitted, request.Add ?? [], request.Remove ?? [], name, scope.UserName, ct));
        }
        catch (KeyNotFoundException e) { return TypedResults.NotFound(new ProblemDetails { Title = e.Message }); }
        catch (ArgumentException e) { return TypedResults.BadRequest(new ProblemDetails { Title = e.Message }); }
    }

    /// <summary>Suggestions come only from a project the caller can read.</summary>
    public static async Task<Results<Ok<IReadOnlyList<TagUse>>, NotFound<ProblemDetails>>> SuggestTags(string? prefix, string? project, int? limit,
        ISeriesTagService tags, IProjectCatalog catalog, ICurrentCaller caller, IOptions<KaapanaOptions> options, CancellationToken ct)
    {
        var (projectId, name) = await VisibleProjectAsync(project, await caller.GetAsync(ct), catalog, options, ct);
        if (projectId is null) return NoProject(name);
        try { return TypedResults.Ok(await tags.SuggestAsync(name, prefix, limit ?? 10, ct)); }
        catch (KeyNotFoundException e) { return TypedResults.NotFound(new ProblemDetails { Title = e.Message }); }
    }
}
