using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Kaapana.Core.Audit;
using Kaapana.Core.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// The OpenID Connect callback's second half: the provider's user (issuer + <c>sub</c>) is an Identity external login of
/// one local account. The first sign-in creates that account as a plain Researcher with no project memberships (an admin
/// grants projects); every sign-in then goes through Identity's checks (lockout) and ends with the local cookie.
/// </summary>
public sealed class OidcSignInAccounts(UserManager<KaapanaUser> users, SignInManager<KaapanaUser> signIn, IAuditTrail audit,
    IOptions<OidcSignInOptions> options, ILogger<OidcSignInAccounts> logger)
{
    /// <summary>Values of <c>/signin?failed=</c> the sign-in page explains.</summary>
    public const string FailedProvider = "oidc";
    public const string FailedLocked = "oidc-locked";

    public async Task SignInAsync(TicketReceivedContext context)
    {
        context.HandleResponse(); // our response, not the handler's sign-in with a scheme of its own
        var http = context.HttpContext;
        var principal = context.Principal ?? new ClaimsPrincipal();
        var sub = principal.FindFirst("sub");
        if (sub is null || string.IsNullOrEmpty(sub.Value))
        {
            logger.LogWarning("The OpenID Connect provider sent no 'sub' claim; sign-in refused");
            http.Response.Redirect($"{AuthPaths.SignIn}?failed={FailedProvider}");
            return;
        }
        // The issuer the handler validated the ID token against: two providers' subjects never collide.
        var issuer = sub.Issuer;

        var user = await users.FindByLoginAsync(issuer, sub.Value) ?? await ProvisionAsync(principal, issuer, sub.Value);
        if (user is null)
        {
            http.Response.Redirect($"{AuthPaths.SignIn}?failed={FailedProvider}");
            return;
        }

        var result = await signIn.ExternalLoginSignInAsync(issuer, sub.Value, isPersistent: false, bypassTwoFactor: true);
        audit.Record(new AuditEvent(user.UserName ?? user.Id, AuditActions.SignIn, OidcSignInExtensions.ChallengePath,
            result.Succeeded ? AuditOutcomes.Success : AuditOutcomes.Denied, http.Connection.RemoteIpAddress?.ToString(),
            new { method = "oidc", lockedOut = result.IsLockedOut }));
        if (!result.Succeeded)
        {
            logger.LogInformation("OpenID Connect sign-in refused for {User}{Locked}", user.UserName, result.IsLockedOut ? " (locked out)" : "");
            http.Response.Redirect($"{AuthPaths.SignIn}?failed={(result.IsLockedOut ? FailedLocked : FailedProvider)}");
            return;
        }
        logger.LogInformation("{User} signed in through OpenID Connect", user.UserName);

        // A page that navigates on, not a redirect: this response ends a navigation the provider's site started, and a
        // SameSite=Strict cookie is withheld for the whole of such a redirect chain. The meta refresh is a new navigation
        // from our own page, so the sign-in cookie set here goes with it.
        var target = HtmlEncoder.Default.Encode(OidcSignInExtensions.LocalOrHome(context.ReturnUri));
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/html; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        await http.Response.WriteAsync(
            $"<!doctype html><html><head><meta http-equiv=\"refresh\" content=\"0;url={target}\"><title>Signed in · Kaapana</title></head>"
            + $"<body><p>Signed in. <a href=\"{target}\">Continue</a></p></body></html>");
    }

    private async Task<KaapanaUser?> ProvisionAsync(ClaimsPrincipal principal, string issuer, string subject)
    {
        var wanted = principal.FindFirst("preferred_username")?.Value ?? principal.FindFirst("email")?.Value ?? subject;
        var user = new KaapanaUser(await UniqueUserNameAsync(wanted));
        var created = await users.CreateAsync(user); // no password: this account signs in through the provider only
        if (!created.Succeeded)
        {
            logger.LogWarning("Could not create an account for OpenID Connect user {Subject}: {Errors}", subject, Errors(created));
            return null;
        }
        // Never Admin from the provider: site administration is granted by an admin, as are project memberships.
        var role = await users.AddToRoleAsync(user, KaapanaRoles.Researcher);
        var login = role.Succeeded ? await users.AddLoginAsync(user, new UserLoginInfo(issuer, subject, options.Value.DisplayName)) : role;
        if (!login.Succeeded)
        {
            await users.DeleteAsync(user); // no half-made account
            // A concurrent first sign-in of the same person may have linked its own account meanwhile.
            return await users.FindByLoginAsync(issuer, subject);
        }
        audit.Record(new AuditEvent(user.UserName!, AuditActions.UserCreated, user.UserName, AuditOutcomes.Success, null,
            new { role = KaapanaRoles.Researcher, method = "oidc" }));
        logger.LogInformation("Created account {User} for OpenID Connect user {Subject} of {Issuer}", user.UserName, subject, issuer);
        return user;
    }

    // Identity's allowed characters only; "name", "name-2", ... until one is free.
    private async Task<string> UniqueUserNameAsync(string wanted)
    {
        var allowed = users.Options.User.AllowedUserNameCharacters;
        var name = new StringBuilder();
        foreach (var c in wanted.Trim()) if (string.IsNullOrEmpty(allowed) || allowed.Contains(c)) name.Append(c);
        var stem = name.Length == 0 ? "user" : name.ToString();
        if (stem.Length > 200) stem = stem[..200];
        var candidate = stem;
        for (var n = 2; await users.FindByNameAsync(candidate) is not null; n++) candidate = $"{stem}-{n}";
        return candidate;
    }

    private static string Errors(IdentityResult result) => string.Join(" ", result.Errors.Select(e => e.Description));
}
