using Kaapana.Core.Access;
using Kaapana.Core.Archive.Projects;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary><c>/api/projects/{project}/members</c>: who is in a project with which role (site admins and the project's ProjectAdmins change it).</summary>
public static class MembersApi
{
    public sealed record MemberDto(string UserId, string UserName, string Role, DateTime AddedAt);
    public sealed record SetMemberRequest(string UserName, string Role);

    public static IEndpointRouteBuilder MapMembersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/projects/{project}/members").WithTags("Project members");
        api.MapGet("", List);
        api.MapPut("", Set);
        api.MapDelete("/{userId}", Remove);
        return app;
    }

    // A project the caller cannot read answers as if it did not exist.
    private static async Task<(AccessScope Scope, int? ProjectId)> ResolveAsync(string project, IProjectCatalog catalog, ICurrentCaller caller, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        return (scope, (await catalog.FindVisibleProjectAsync(project, scope, ct))?.Id);
    }

    public static async Task<Results<Ok<List<MemberDto>>, NotFound>> List(string project, IProjectCatalog catalog, ICurrentCaller caller, ProjectMembers members,
        CancellationToken ct)
    {
        var (scope, id) = await ResolveAsync(project, catalog, caller, ct);
        if (id is not { } projectId) return TypedResults.NotFound();
        var rows = await members.ListAsync(scope, projectId, ct);
        return TypedResults.Ok(rows.Select(r => new MemberDto(r.UserId, r.UserName, r.Role.ToString(), r.AddedAt)).ToList());
    }

    public static async Task<Results<NoContent, NotFound, ForbidHttpResult, BadRequest<ProblemDetails>>> Set(string project, SetMemberRequest request,
        IProjectCatalog catalog, ICurrentCaller caller, ProjectMembers members, HttpContext http, CancellationToken ct)
    {
        var (scope, id) = await ResolveAsync(project, catalog, caller, ct);
        if (id is not { } projectId) return TypedResults.NotFound();
        if (!Enum.TryParse<ProjectRole>(request.Role, ignoreCase: true, out var role) || !Enum.IsDefined(role))
            return TypedResults.BadRequest(new ProblemDetails { Title = $"Unknown role '{request.Role}'; use Viewer, Researcher or ProjectAdmin." });
        var change = await members.SetAsync(scope, projectId, request.UserName ?? "", role, http.Connection.RemoteIpAddress?.ToString(), ct);
        return Outcome(change);
    }

    public static async Task<Results<NoContent, NotFound, ForbidHttpResult, BadRequest<ProblemDetails>>> Remove(string project, string userId,
        IProjectCatalog catalog, ICurrentCaller caller, ProjectMembers members, HttpContext http, CancellationToken ct)
    {
        var (scope, id) = await ResolveAsync(project, catalog, caller, ct);
        if (id is not { } projectId) return TypedResults.NotFound();
        return Outcome(await members.RemoveAsync(scope, projectId, userId, http.Connection.RemoteIpAddress?.ToString(), ct));
    }

    private static Results<NoContent, NotFound, ForbidHttpResult, BadRequest<ProblemDetails>> Outcome(MemberChange change) =>
        change.Succeeded ? TypedResults.NoContent()
        : change.Forbidden ? TypedResults.Forbid()
        : TypedResults.BadRequest(new ProblemDetails { Title = change.Error });
}
