using Kaapana.Core.Archive.Tags;
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

    public static async Task<Results<Ok<TagChangeResult>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> ChangeTags(
        TagChangeRequest request, ISeriesTagService tags, HttpContext http, CancellationToken ct)
    {
        if (request.SeriesUids is not { Count: > 0 })
            return TypedResults.BadRequest(new ProblemDetails { Title = "seriesUids is required: the Series Instance UIDs to tag." });
        if ((request.Add?.Count ?? 0) + (request.Remove?.Count ?? 0) == 0)
            return TypedResults.BadRequest(new ProblemDetails { Title = "Nothing to do: give tags in add and/or remove." });
        try
        {
            return TypedResults.Ok(await tags.ChangeAsync(request.SeriesUids, request.Add ?? [], request.Remove ?? [], request.Project,
                http.User.Identity?.Name, ct));
        }
        catch (KeyNotFoundException e) { return TypedResults.NotFound(new ProblemDetails { Title = e.Message }); }
        catch (ArgumentException e) { return TypedResults.BadRequest(new ProblemDetails { Title = e.Message }); }
    }

    public static async Task<Results<Ok<IReadOnlyList<TagUse>>, NotFound<ProblemDetails>>> SuggestTags(string? prefix, string? project, int? limit,
        ISeriesTagService tags, CancellationToken ct)
    {
        try { return TypedResults.Ok(await tags.SuggestAsync(project, prefix, limit ?? 10, ct)); }
        catch (KeyNotFoundException e) { return TypedResults.NotFound(new ProblemDetails { Title = e.Message }); }
    }
}
