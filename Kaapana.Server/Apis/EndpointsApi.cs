using Kaapana.Core.Access;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Audit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>
/// <c>/api/endpoints</c>: receiving endpoints (called AE title → project, optional dataset). A change is answered by the DICOM
/// receiver from the next association on. Projects and datasets are given by name, as elsewhere in <c>/api</c>. Site admins manage
/// every endpoint; a project's ProjectAdmins (Manage) those of their project. An endpoint of a project the caller cannot read
/// answers as a nonexistent one.
/// </summary>
public static class EndpointsApi
{
    public sealed record EndpointDto(string AETitle, string Project, string? Dataset, string? Description);
    public sealed record EndpointRequest(string? AETitle, string? Project, string? Dataset, string? Description);

    public static IEndpointRouteBuilder MapEndpointsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/endpoints").WithTags("Receiving endpoints");
        api.MapGet("", ListEndpoints);
        api.MapPost("", AddEndpoint);
        api.MapPut("/{ae}", UpdateEndpoint);
        api.MapDelete("/{ae}", DeleteEndpoint);
        return app;
    }

    private static EndpointDto ToDto(ReceivingEndpointInfo e) => new(e.AETitle, e.Project, e.Dataset, e.Description);

    private static BadRequest<ProblemDetails> Bad(string message) => TypedResults.BadRequest(new ProblemDetails { Title = message, Status = 400 });

    /// <summary>The endpoints of the projects the caller manages.</summary>
    public static async Task<Ok<List<EndpointDto>>> ListEndpoints(IProjectCatalog catalog, ICurrentCaller caller, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        return TypedResults.Ok((await catalog.ListReceivingEndpointsAsync(ct)).Where(e => scope.Can(e.ProjectId, ProjectPermission.Manage)).Select(ToDto).ToList());
    }

    private static NotFound<ProblemDetails> NoEndpoint(string ae) => TypedResults.NotFound(new ProblemDetails { Title = $"No receiving endpoint '{ae}'.", Status = 404 });

    /// <summary>The existing endpoint when the caller can read its project (else null: as if there were none).</summary>
    private static async Task<ReceivingEndpointInfo?> VisibleEndpointAsync(string ae, AccessScope scope, IProjectCatalog catalog, CancellationToken ct)
    {
        var normalized = ProjectCatalog.NormalizeAE(ae);
        return (await catalog.ListReceivingEndpointsAsync(ct)).FirstOrDefault(e => e.AETitle == normalized && scope.Can(e.ProjectId, ProjectPermission.Read));
    }

    public static async Task<Results<Created<EndpointDto>, BadRequest<ProblemDetails>, Conflict<ProblemDetails>, ForbidHttpResult>> AddEndpoint(
        EndpointRequest request, IProjectCatalog catalog, ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        if (string.IsNullOrWhiteSpace(request.AETitle)) return Bad("aeTitle is required.");
        var (bad, forbidden) = await ProjectProblemAsync(request, scope, catalog, audit, http, ct);
        if (bad is not null) return Bad(bad);
        if (forbidden) return TypedResults.Forbid();
        // AE titles are one namespace for the whole server, so a taken title is reported whoever holds it.
        if (await catalog.FindReceivingEndpointAsync(request.AETitle, ct) is not null)
            return TypedResults.Conflict(new ProblemDetails { Title = $"AE title '{request.AETitle.Trim()}' is already a receiving endpoint.", Status = 409 });
        var result = await SaveAsync(request.AETitle, request, scope, catalog, mustBeNew: true, ct);
        if (result.Saved is not { } e) return Bad(result.Error!);
        audit.Audit(http, scope, AuditActions.EndpointChanged, $"endpoint:{e.AETitle} project:{e.Project}", AuditOutcomes.Success, new { added = true });
        return TypedResults.Created($"/api/endpoints/{Uri.EscapeDataString(e.AETitle)}", ToDto(e));
    }

    /// <summary>The request's project must be one the caller sees (else as if absent) and manages (else 403, audited).</summary>
    private static async Task<(string? Bad, bool Forbidden)> ProjectProblemAsync(EndpointRequest request, AccessScope scope,
        IProjectCatalog catalog, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Project)) return ("project is required.", false);
        if (await catalog.FindVisibleProjectAsync(request.Project.Trim(), scope, ct) is not { } project)
            return ($"There is no project '{request.Project}'.", false);
        if (!scope.Can(project.Id, ProjectPermission.Manage))
        {
            audit.Denied(http, scope, AuditActions.EndpointChanged, $"endpoint:{request.AETitle?.Trim()} project:{project.Name}");
            return (null, true);
        }
        return (null, false);
    }

    public static async Task<Results<Ok<EndpointDto>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, ForbidHttpResult>> UpdateEndpoint(
        string ae, EndpointRequest request, IProjectCatalog catalog, ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        if (await VisibleEndpointAsync(ae, scope, catalog, ct) is not { } existing) return NoEndpoint(ae);
        if (!scope.Can(existing.ProjectId, ProjectPermission.Manage))
            return audit.Denied(http, scope, AuditActions.EndpointChanged, $"endpoint:{existing.AETitle} project:{existing.Project}");
        if (request.AETitle is { } renamed && !string.Equals(renamed.Trim(), ae.Trim(), StringComparison.Ordinal))
            return Bad("The AE title of an endpoint cannot be changed; add a new endpoint and delete this one.");
        var (bad, forbidden) = await ProjectProblemAsync(request, scope, catalog, audit, http, ct);
        if (bad is not null) return Bad(bad);
        if (forbidden) return TypedResults.Forbid();
        var result = await SaveAsync(ae, request, scope, catalog, mustBeNew: false, ct);
        if (result.Saved is not { } e) return Bad(result.Error!);
        audit.Audit(http, scope, AuditActions.EndpointChanged, $"endpoint:{e.AETitle} project:{e.Project}", AuditOutcomes.Success);
        return TypedResults.Ok(ToDto(e));
    }

    private static async Task<(ReceivingEndpointInfo? Saved, string? Error)> SaveAsync(string ae, EndpointRequest request, AccessScope scope, IProjectCatalog catalog,
        bool mustBeNew, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Project)) return (null, "project is required.");
        if (await catalog.FindVisibleProjectAsync(request.Project.Trim(), scope, ct) is not { } project)
            return (null, $"There is no project '{request.Project}'.");
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

    public static async Task<Results<NoContent, NotFound<ProblemDetails>, ForbidHttpResult>> DeleteEndpoint(string ae, IProjectCatalog catalog, ICurrentCaller caller,
        IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        if (await VisibleEndpointAsync(ae, scope, catalog, ct) is not { } existing) return NoEndpoint(ae);
        if (!scope.Can(existing.ProjectId, ProjectPermission.Manage))
            return audit.Denied(http, scope, AuditActions.EndpointChanged, $"endpoint:{existing.AETitle} project:{existing.Project}");
        if (!await catalog.DeleteReceivingEndpointAsync(ae, ct)) return NoEndpoint(ae);
        audit.Audit(http, scope, AuditActions.EndpointChanged, $"endpoint:{existing.AETitle} project:{existing.Project}", AuditOutcomes.Success, new { deleted = true });
        return TypedResults.NoContent();
    }
}
