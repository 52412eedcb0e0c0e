using System.Security.Claims;
using System.Text.Encodings.Web;
using Kaapana.Core.Access;
using Kaapana.Core.Access.Tokens;
using Kaapana.Core.Audit;
using Kaapana.Core.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// <c>Authorization: Bearer kpat_…</c> (a personal API token) on <c>/api</c> and <c>/dicomweb</c>, the doors scripts,
/// notebooks and external viewers use; pages, hubs and the jobs dashboard refuse it (a browser has its cookie). The principal
/// is the owner's own (roles and all, as for a password sign-in) plus <see cref="AccessClaims"/>, which narrow it to the
/// token's projects and read or write. A refused token gets 401 with <c>error="invalid_token"</c> and nothing about why, and
/// takes a token of the client's sign-in rate limit (<see cref="SignInRateLimiter"/>); past the limit, 429.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiTokens tokens,
    ApiTokenPrincipalCache principals,
    UserManager<KaapanaUser> users,
    SignInManager<KaapanaUser> signIn,
    IAuditTrail audit,
    SignInRateLimiter limiter)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiToken";
    private const string Bearer = "Bearer ";

    /// <summary>
    /// For the Admin policy: an admin's token administers the site only when it is neither limited to projects nor
    /// read-only (as <c>AccessScope.CanAdministerSite</c>); password and cookie sign-ins are not narrowed.
    /// </summary>
    public static bool MayAdministerSite(ClaimsPrincipal user) =>
        !user.HasClaim(c => c.Type == AccessClaims.TokenId)
        || (!user.HasClaim(c => c.Type == AccessClaims.TokenProjects) && user.HasClaim(AccessClaims.TokenAccess, AccessClaims.ReadWrite));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        if (!AuthPaths.IsBasicApi(Request.Path)) return AuthenticateResult.Fail("API tokens are accepted on /api and /dicomweb only.");

        var check = await tokens.ValidateAsync(header[Bearer.Length..].Trim(), Context.RequestAborted);
        if (check.Token is not { } token)
        {
            // A refused token is a failed credential check: it draws on the client's sign-in bucket like a wrong password, so
            // a spray of bad tokens is bounded, and so are its audit entries. With the bucket empty: 429, no entry.
            if (limiter.Acquire(Context) is { } limited) return limited;
            // The reason goes to the audit trail and the log, never to the caller (and never a character of the token).
            audit.Record(new AuditEvent(check.UserName ?? "(unknown)", AuditActions.TokenRefused, Request.Path.Value, AuditOutcomes.Denied,
                Context.Connection.RemoteIpAddress?.ToString(), new { reason = check.Refusal.ToString(), tokenId = check.TokenId }));
            Logger.LogInformation("API token refused on {Path}: {Reason} (token {TokenId}, owner {User})", Request.Path.Value, check.Refusal,
                check.TokenId, check.UserName);
            return AuthenticateResult.Fail("Invalid API token.");
        }

        if (!principals.TryGet(token.TokenId, token.SecurityStamp, out var principal))
        {
            if (await users.FindByIdAsync(token.UserId) is not { } user) return AuthenticateResult.Fail("Invalid API token.");
            principal = await signIn.CreateUserPrincipalAsync(user);
            var identity = (ClaimsIdentity)principal.Identity!;
            identity.AddClaim(new Claim(AccessClaims.TokenId, token.TokenId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (token.ProjectIds is { } projects) identity.AddClaim(new Claim(AccessClaims.TokenProjects, string.Join(' ', projects)));
            identity.AddClaim(new Claim(AccessClaims.TokenAccess, ApiTokens.Access(token.Access)));
            principals.Add(token.TokenId, token.SecurityStamp, principal);
        }
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (SignInRateLimiter.ChallengeIfLimited(Context) is { } limited)
        {
            await limited;
            return;
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = result.Failure is null
            ? $"Bearer realm=\"{AuthPaths.Realm}\""
            : $"Bearer realm=\"{AuthPaths.Realm}\", error=\"invalid_token\"";
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }
}
