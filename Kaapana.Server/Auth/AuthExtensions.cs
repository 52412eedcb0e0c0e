using Kaapana.Core;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Auth;
using Kaapana.Server.Extensions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// Sign-in on every door: ASP.NET Core Identity accounts in the index database, a cookie for the UI and the viewer, HTTP
/// Basic for <c>/api</c> and <c>/dicomweb</c>, and a fallback policy that requires an authenticated user everywhere except
/// where an endpoint says <c>AllowAnonymous</c> (<c>/healthz</c>, the sign-in page, static assets).
/// </summary>
public static class AuthExtensions
{
    /// <summary>Chooses Basic when the request carries it, else the cookie.</summary>
    public const string SelectorScheme = "Kaapana";
    public const string AdminPolicy = "Admin";

    public static IHostApplicationBuilder AddKaapanaAuth(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName)
            .Validate(o => o.MaxFailedAccessAttempts > 0, "Kaapana:Auth:MaxFailedAccessAttempts must be at least 1.")
            .Validate(o => o.CookieLifetime > TimeSpan.Zero, "Kaapana:Auth:CookieLifetime must be positive.")
            .ValidateOnStart();

        services.AddIdentityCore<KaapanaUser>()
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<KaapanaDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        services.AddOptions<IdentityOptions>().Configure<IOptions<AuthOptions>>((identity, auth) =>
        {
            identity.Lockout.AllowedForNewUsers = true;
            identity.Lockout.MaxFailedAccessAttempts = auth.Value.MaxFailedAccessAttempts;
            identity.Lockout.DefaultLockoutTimeSpan = auth.Value.LockoutDuration;
            identity.Password.RequiredLength = 8;
            identity.User.RequireUniqueEmail = false;
        });

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = SelectorScheme;
                options.DefaultSignInScheme = IdentityConstants.ApplicationScheme;
            })
            .AddPolicyScheme(SelectorScheme, "Basic, API token or cookie", options => options.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)
                    ? BasicAuthenticationHandler.SchemeName
                    : context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                        ? ApiTokenAuthenticationHandler.SchemeName
                        : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, BasicAuthenticationHandler>(BasicAuthenticationHandler.SchemeName, null)
            .AddIdentityCookies();
        services.AddSingleton<BasicCredentialCache>();
        services.AddKaapanaApiTokens();

        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<IOptions<AuthOptions>>((cookie, auth) =>
            {
                cookie.Cookie.Name = "Kaapana.Auth";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.ExpireTimeSpan = auth.Value.CookieLifetime;
                cookie.SlidingExpiration = true;
                cookie.LoginPath = AuthPaths.SignIn;
                cookie.LogoutPath = AuthPaths.SignOut;
                cookie.Events.OnRedirectToLogin = RedirectOrStatus(StatusCodes.Status401Unauthorized);
                cookie.Events.OnRedirectToAccessDenied = RedirectOrStatus(StatusCodes.Status403Forbidden);
            });

        // Keys in the data folder: sign-in cookies survive a restart, and two servers never share a key ring by accident.
        services.AddDataProtection().SetApplicationName("Kaapana");
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<KaapanaOptions>, ILoggerFactory>((keys, kaapana, logs) =>
            keys.XmlRepository = new FileSystemXmlRepository(KeysDirectory(kaapana.Value.DataDir), logs));

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(AdminPolicy, policy => policy.RequireRole(KaapanaRoles.Admin)
                .RequireAssertion(context => ApiTokenAuthenticationHandler.MayAdministerSite(context.User)));
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, SecurityStampRevalidation>();
        // Cookies re-read the account this often: a reset password, a role change or a deletion reaches them within a minute.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));
        services.AddSingleton<UserAdministration>();
        services.AddKaapanaAccess();
        builder.AddKaapanaOidc();

        // After the index migrator (registered earlier), before Kestrel.
        services.AddHostedService<AdminBootstrap>();
        return builder;
    }

    public static IApplicationBuilder UseKaapanaAuth(this IApplicationBuilder app)
    {
        app.UseAuthentication();
        app.UseMiddleware<ReadOnlyTokenGuard>();
        app.UseAuthorization();
        return app;
    }

    /// <summary><c>POST /signout</c> (antiforgery-checked form post from the user menu).</summary>
    public static IEndpointRouteBuilder MapKaapanaSignOut(this IEndpointRouteBuilder app)
    {
        app.MapPost(AuthPaths.SignOut, async (SignInManager<KaapanaUser> signIn, [FromForm] string? returnUrl) =>
        {
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect(AuthPaths.SignIn);
        }).ExcludeFromDescription();
        app.MapKaapanaOidcSignIn();
        return app;
    }

    // The key ring signs the cookies: readable by the server's user only.
    private static DirectoryInfo KeysDirectory(string dataDir)
    {
        var path = Path.Combine(dataDir, "keys");
        return OperatingSystem.IsWindows()
            ? Directory.CreateDirectory(path)
            : Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    // Pages and the viewer go to the sign-in page; machine APIs get a status code (and a Basic challenge), never HTML.
    private static Func<RedirectContext<CookieAuthenticationOptions>, Task> RedirectOrStatus(int status) => context =>
    {
        var path = context.Request.Path;
        if (AuthPaths.IsStatusOnly(path))
        {
            context.Response.StatusCode = status;
            if (status == StatusCodes.Status401Unauthorized && AuthPaths.IsBasicApi(path))
                context.Response.Headers.WWWAuthenticate = AuthPaths.BasicChallenge;
        }
        else if (status == StatusCodes.Status403Forbidden)
        {
            // A signed-in user on a page their role does not open (e.g. a Researcher on /admin/users).
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync("You are not authorized to see this page. Go back to / or sign in as another user at /signin.");
        }
        else
        {
            context.Response.Redirect(context.RedirectUri);
        }
        return Task.CompletedTask;
    };
}
