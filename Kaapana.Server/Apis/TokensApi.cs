using System.Security.Claims;
using Kaapana.Core.Access;
using Kaapana.Core.Access.Tokens;
using Kaapana.Server.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>
/// Personal API tokens: <c>GET /api/tokens</c> (mine), <c>POST /api/tokens</c> (create; the answer holds the token text,
/// the only time it is ever shown), <c>DELETE /api/tokens/{id}</c> (revoke mine). Admins: <c>GET /api/admin/tokens</c>,
/// <c>DELETE /api/admin/tokens/{id}</c>. Creating needs a password or cookie sign-in: a token cannot mint tokens.
/// </summary>
public static class TokensApi
{
    public sealed record ApiTokenDto(int Id, string Name, string Prefix, string? Owner, DateTime CreatedAt, DateTime ExpiresAt, DateTime? LastUsedAt,
        DateTime? RevokedAt, IReadOnlyList<int>? ProjectIds, string Access, string Status);

    public sealed record CreatedApiTokenDto(ApiTokenDto Token, string Secret);

    /// <param name="ProjectIds">Null or absent: every project the owner may access.</param>
    /// <param name="Access"><c>read</c> (default) or <c>write</c>.</param>
    public sealed record CreateTokenRequest(string? Name, int? ExpiresInDays, int[]? ProjectIds, string? Access);

    public static IEndpointRouteBuilder MapTokensApi(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/tokens").WithTags("Tokens");
        mine.MapGet("", ListMine);
        mine.MapPost("", Create);
        mine.MapDelete("/{id:int}", RevokeMine);
        var admin = app.MapGroup("/api/admin/tokens").WithTags("Tokens").RequireAuthorization(AuthExtensions.AdminPolicy);
        admin.MapGet("", ListAll);
        admin.MapDelete("/{id:int}", RevokeAny);
        return app;
    }

    public static async Task<Ok<List<ApiTokenDto>>> ListMine(ClaimsPrincipal user, ApiTokens tokens, CancellationToken ct)
    {
        var list = await tokens.ListAsync(UserId(user), ct);
        return TypedResults.Ok(list.Select(t => ToDto(t, DateTime.UtcNow)).ToList());
    }

    public static async Task<Results<Created<CreatedApiTokenDto>, BadRequest<ProblemDetails>, ProblemHttpResult>> Create(CreateTokenRequest request,
        ClaimsPrincipal user, HttpContext http, ApiTokens tokens, ICurrentCaller caller, CancellationToken ct)
    {
        if (user.HasClaim(c => c.Type == AccessClaims.TokenId))
            return TypedResults.Problem(title: "An API token cannot create tokens: sign in with your password.", statusCode: StatusCodes.Status403Forbidden);
        if (!ApiTokens.TryParseAccess(request.Access ?? AccessClaims.ReadOnly, out var access))
            return BadRequest($"access must be '{AccessClaims.ReadOnly}' or '{AccessClaims.ReadWrite}'.");
        if (request.ExpiresInDays is null) return BadRequest($"expiresInDays is required (1 to {tokens.MaxLifetimeDays}).");
        // A token may name only projects its owner can read (a site admin: any); the rest is refused like a missing project.
        var visible = (await caller.GetAsync(ct)).ProjectsWith(ProjectPermission.Read);
        var created = await tokens.CreateAsync(UserId(user), user.Identity?.Name ?? "", new NewApiToken(request.Name, request.ExpiresInDays.Value,
            request.ProjectIds, access), visible, http.Connection.RemoteIpAddress?.ToString(), ct);
        if (!created.Succeeded) return BadRequest(created.Error!);
        var dto = ToDto(created.Token!, DateTime.UtcNow);
        return TypedResults.Created($"/api/tokens/{dto.Id}", new CreatedApiTokenDto(dto, created.Text!));
    }

    public static async Task<Results<NoContent, NotFound>> RevokeMine(int id, ClaimsPrincipal user, HttpContext http, ApiTokens tokens, CancellationToken ct) =>
        await tokens.RevokeAsync(id, UserId(user), user.Identity?.Name ?? "", http.Connection.RemoteIpAddress?.ToString(), ct)
            ? TypedResults.NoContent()
            : TypedResults.NotFound();

    public static async Task<Results<Ok<List<ApiTokenDto>>, ForbidHttpResult>> ListAll(ApiTokens tokens, ICurrentCaller caller, CancellationToken ct)
    {
        // Site administration: not with an admin's token narrowed to some projects or to read.
        if (!(await caller.GetAsync(ct)).CanAdministerSite) return TypedResults.Forbid();
        var list = await tokens.ListAllAsync(ct);
        return TypedResults.Ok(list.Select(t => ToDto(t, DateTime.UtcNow)).ToList());
    }

    public static async Task<Results<NoContent, NotFound, ForbidHttpResult>> RevokeAny(int id, ClaimsPrincipal user, HttpContext http, ApiTokens tokens,
        ICurrentCaller caller, CancellationToken ct)
    {
        if (!(await caller.GetAsync(ct)).CanAdministerSite) return TypedResults.Forbid();
        return await tokens.RevokeAsync(id, ownerId: null, user.Identity?.Name ?? "", http.Connection.RemoteIpAddress?.ToString(), ct)
            ? TypedResults.NoContent()
            : TypedResults.NotFound();
    }

    private static string UserId(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "";

    private static BadRequest<ProblemDetails> BadRequest(string title) =>
        TypedResults.BadRequest(new ProblemDetails { Title = title, Status = StatusCodes.Status400BadRequest });

    private static ApiTokenDto ToDto(ApiTokenInfo t, DateTime now) =>
        new(t.Id, t.Name, t.DisplayPrefix, t.UserName, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt, t.ProjectIds, ApiTokens.Access(t.Access),
            t.StatusAt(now).ToString().ToLowerInvariant());
}
