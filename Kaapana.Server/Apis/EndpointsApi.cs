using Kaapana.Core.Archive.Projects;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>
/// <c>/api/endpoints</c>: receiving endpoints (called AE title → project, optional dataset). A change is answered by the DICOM
/// receiver from the next association on. Projects and datasets are given by name, as elsewhere in <c>/api</c>. Admins only.
/// </summary>
public static class EndpointsApi
{
    public sealed record EndpointDto(string AETitle, string Project, string? Dataset, string? Description);
    public sealed record EndpointRequest(string? AETitle, string? Project, string? Dataset, string? Description);

    public static IEndpointRouteBuilder MapEndpointsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/endpoints").WithTags("Receiving endpoints").RequireAuthorization(Auth.AuthExtensions.AdminPolicy);
        api.MapGet("", ListEndpoints);
        api.MapPost("", AddEndpoint);
        api.MapPut("/{ae}", UpdateEndpoint);
        api.MapDelete("/{ae}", DeleteEndpoint);
        return app;
    }

    private static EndpointDto ToDto(ReceivingEndpointInfo e) => new(e.AETitle, e.Project, e.Dataset, e.Description);

    private static BadRequest<ProblemDetails> Bad(string message) => TypedResults.BadRequest(new ProblemDetails { Title = message, Status = 400 });

    public static async Task<Ok<List<EndpointDto>>> ListEndpoints(IProjectCatalog catalog, CancellationToken ct) =>
        TypedResults.Ok((await catalog.ListReceivingEndpointsAsync(ct)).Select(ToDto).ToList());

    public static async Task<Results<Created<EndpointDto>, BadRequest<ProblemDetails>, Conflict<ProblemDetails>>> AddEndpoint(
        EndpointRequest request, IProjectCatalog catalog, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.AETitle)) return Bad("aeTitle is required.");
        if (await catalog.FindReceivingEndpointAsync(request.AETitle, ct) is not null)
            return TypedResults.Conflict(new ProblemDetails { Title = $"AE title '{request.AETitle.Trim()}' is already a receiving endpoint.", Status = 409 });
        var result = await SaveAsync(request.AETitle, request, catalog, mustBeNew: true, ct);
        return result.Saved is { } e ? TypedResults.Created($"/api/endpoints/{Uri.EscapeDataString(e.AETitle)}", ToDto(e)) : Bad(result.Error!);
    }

    public static async Task<Results<Ok<EndpointDto>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>>> UpdateEndpoint(
        string ae, EndpointRequest request, IProjectCatalog catalog, CancellationToken ct)
    {
        if (await catalog.FindReceivingEndpointAsync(ae, ct) is null)
            return TypedResults.NotFound(new ProblemDetails { Title = $"No receiving endpoint '{ae}'.", Status = 404 });
        if (request.AETitle is { } renamed && !string.Equals(renamed.Trim(), ae.Trim(), StringComparison.Ordinal))
            return Bad("The AE title of an endpoint cannot be changed; add a new endpoint and delete this one.");
        var result = await SaveAsync(ae, request, catalog, mustBeNew: false, ct);
        return result.Saved is { } e ? TypedResults.Ok(ToDto(e)) : Bad(result.Error!);
    }

    private static async Task<(ReceivingEndpointInfo? Saved, string? Error)> SaveAsync(string ae, EndpointRequest request, IProjectCatalog catalog, bool mustBeNew,
        CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Project)) return (null, "project is required.");
        if (await catalog.FindProjectAsync(request.Project.Trim(), ct) is not { } project) return (null, $"There is no project '{request.Project}'.");
        int? datasetId = null;
        if (!string.IsNullOrWhiteSpace(request.Dataset))
        {
            if (await catalog.FindDatasetAsync(project.Id, request.Dataset.Trim(), ct) is not { } dataset)
                return (null, $"There is no dataset '{request.Dataset}' in project '{project.Name}'.");
            datasetId = dataset.Id;
        }
        try
        {
            return (await catalog.SaveReceivingEndpointAsync(ae, project.Id, datasetId, request.Description, mustBeNew, ct), null);
        }
        catch (CatalogValidationException ex)
        {
            return (null, ex.Message);
        }
    }

    public static async Task<Results<NoContent, NotFound<ProblemDetails>>> DeleteEndpoint(string ae, IProjectCatalog catalog, CancellationToken ct) =>
        await catalog.DeleteReceivingEndpointAsync(ae, ct)
            ? TypedResults.NoContent()
            : TypedResults.NotFound(new ProblemDetails { Title = $"No receiving endpoint '{ae}'.", Status = 404 });
}
