using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Kaapana.Server.Auth;

/// <summary>
/// Optional OpenID Connect sign-in beside local accounts (<see cref="OidcSignInOptions"/>): authorization code flow with
/// PKCE; on the callback <see cref="OidcSignInAccounts"/> maps the provider's user to a local account and issues the usual
/// Identity cookie, so everything downstream (roles, project access, pages, <c>/api</c>) works as for a password sign-in.
/// </summary>
public static class OidcSignInExtensions
{
    public const string Scheme = "oidc";
    public const string ChallengePath = "/signin/oidc";
    public const string CallbackPath = "/signin/oidc/callback";

    /// <summary>Registers the scheme only when <c>Kaapana:Auth:Oidc:Authority</c> is set (the sign-in page lists it then).</summary>
    public static IHostApplicationBuilder AddKaapanaOidc(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<OidcSignInOptions>().BindConfiguration(OidcSignInOptions.SectionName)
            .Validate(o => !o.Enabled || !string.IsNullOrWhiteSpace(o.ClientId), "Kaapana:Auth:Oidc:ClientId is required with an Authority.")
            .ValidateOnStart();
        builder.Services.AddScoped<OidcSignInAccounts>();
        var settings = builder.Configuration.GetSection(OidcSignInOptions.SectionName).Get<OidcSignInOptions>() ?? new();
        if (!settings.Enabled) return builder;

        builder.Services.AddAuthentication().AddOpenIdConnect(Scheme, settings.DisplayName, options =>
        {
            options.Authority = settings.Authority;
            options.ClientId = settings.ClientId;
            options.ClientSecret = string.IsNullOrEmpty(settings.ClientSecret) ? null : settings.ClientSecret;
            options.RequireHttpsMetadata = settings.RequireHttpsMetadata;
            options.ResponseType = OpenIdConnectResponseType.Code;
            options.UsePkce = true;
            // The code comes back as a top-level GET: the correlation and nonce cookies can then be SameSite=Lax, which
            // browsers also keep on plain HTTP (SameSite=None needs Secure, which the default form_post would require).
            options.ResponseMode = OpenIdConnectResponseMode.Query;
            options.CorrelationCookie.SameSite = SameSiteMode.Lax;
            options.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.NonceCookie.SameSite = SameSiteMode.Lax;
            options.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.CallbackPath = CallbackPath;
            options.MapInboundClaims = false; // keep "sub", "preferred_username", "email" as the provider names them
            options.SaveTokens = false;
            options.Scope.Clear();
            options.Scope.Add("openid");
            foreach (var scope in settings.Scopes ?? ["profile", "email"]) options.Scope.Add(scope);
            // The provider's identity never becomes a cookie of its own: it is exchanged for the local account's cookie.
            options.Events.OnTicketReceived = context =>
                context.HttpContext.RequestServices.GetRequiredService<OidcSignInAccounts>().SignInAsync(context);
            options.Events.OnRemoteFailure = context =>
            {
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OidcSignInExtensions))
                    .LogWarning(context.Failure, "OpenID Connect sign-in failed");
                context.Response.Redirect($"{AuthPaths.SignIn}?failed={OidcSignInAccounts.FailedProvider}");
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });
        return builder;
    }

    /// <summary><c>GET /signin/oidc?returnUrl=/x</c>: sends the browser to the provider (nothing is mapped without an Authority).</summary>
    public static IEndpointRouteBuilder MapKaapanaOidcSignIn(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<OidcSignInOptions>>().Value.Enabled) return app;
        app.MapGet(ChallengePath, (string? returnUrl) =>
                TypedResults.Challenge(new AuthenticationProperties { RedirectUri = LocalOrHome(returnUrl) }, [Scheme]))
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>Only a path on this site (not <c>//host</c> or <c>/\host</c>): the round trip cannot send anyone elsewhere.</summary>
    internal static string LocalOrHome(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl[0] == '/' && (returnUrl.Length == 1 || (returnUrl[1] != '/' && returnUrl[1] != '\\'))
            ? returnUrl
            : "/";
}
