using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Kaapana.Core.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// HTTP Basic (RFC 7617) with a local account, for <c>/api</c> and <c>/dicomweb</c> clients (scripts, Orthanc's DICOMweb
/// plugin). Wrong passwords count toward the account's lockout like wrong sign-ins on the page. A verified header is
/// remembered briefly (<see cref="BasicCredentialCache"/>) because clients send it on every request.
/// </summary>
public sealed class BasicAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    UserManager<KaapanaUser> users,
    SignInManager<KaapanaUser> signIn,
    BasicCredentialCache cache,
    Kaapana.Core.Audit.IAuditTrail audit,
    SignInRateLimiter limiter,
    DecoyPasswordCheck decoy)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Basic";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (!AuthenticationHeaderValue.TryParse(header, out var value) || !SchemeName.Equals(value.Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        if (!TryDecode(value.Parameter, out var userName, out var password))
        {
            return AuthenticateResult.Fail("Malformed Basic credentials.");
        }

        var key = BasicCredentialCache.KeyOf(header!);
        if (cache.TryGet(key, out var cached))
        {
            // A DB read, not a password hash: still sees a reset password, a role change or a lockout at once.
            var current = await users.FindByIdAsync(cached.UserId);
            if (current is not null && current.SecurityStamp == cached.SecurityStamp && !await users.IsLockedOutAsync(current))
            {
                return AuthenticateResult.Success(new AuthenticationTicket(cached.Principal, SchemeName));
            }
            cache.Remove(key);
        }

        // Only a check that hashes a password takes a token: cached headers above never do.
        if (limiter.Acquire(Context) is { } limited) return limited;

        var user = await users.FindByNameAsync(userName);
        if (user is null)
        {
            decoy.Verify(password); // costs what a wrong password costs, so timing does not reveal which names exist
            audit.Record(new Kaapana.Core.Audit.AuditEvent(userName, Kaapana.Core.Audit.AuditActions.BasicSignIn, Request.Path.Value,
                Kaapana.Core.Audit.AuditOutcomes.Denied, Context.Connection.RemoteIpAddress?.ToString(), new { unknownUser = true }));
            return AuthenticateResult.Fail("Wrong user name or password.");
        }

        var result = await signIn.CheckPasswordSignInAsync(user, password, lockoutOnFailure: true);
        // Audited when the password is checked (not on cache hits, which would log every DICOMweb request).
        audit.Record(new Kaapana.Core.Audit.AuditEvent(user.UserName ?? userName, Kaapana.Core.Audit.AuditActions.BasicSignIn, Request.Path.Value,
            result.Succeeded ? Kaapana.Core.Audit.AuditOutcomes.Success : Kaapana.Core.Audit.AuditOutcomes.Denied,
            Context.Connection.RemoteIpAddress?.ToString(), new { lockedOut = result.IsLockedOut }));
        if (result.IsLockedOut)
        {
            Logger.LogWarning("HTTP Basic sign-in refused for {User}: account locked", user.UserName);
            return AuthenticateResult.Fail("Account locked.");
        }
        if (!result.Succeeded)
        {
            Logger.LogInformation("HTTP Basic sign-in failed for {User}", user.UserName);
            return AuthenticateResult.Fail("Wrong user name or password.");
        }

        var principal = await signIn.CreateUserPrincipalAsync(user);
        cache.Add(key, new BasicCredentialCache.Entry(user.Id, user.SecurityStamp, principal));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (SignInRateLimiter.ChallengeIfLimited(Context) is { } limited) return limited;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = AuthPaths.BasicChallenge;
        return Task.CompletedTask;
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }

    private static bool TryDecode(string? parameter, out string userName, out string password)
    {
        userName = password = "";
        if (string.IsNullOrEmpty(parameter)) return false;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = decoded.IndexOf(':');
        if (colon <= 0) return false;
        userName = decoded[..colon];
        password = decoded[(colon + 1)..];
        return true;
    }
}
