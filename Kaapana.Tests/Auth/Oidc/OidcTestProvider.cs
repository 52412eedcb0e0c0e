using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Kaapana.Tests.Auth.Oidc;

/// <summary>
/// A real OpenID Connect provider (OpenIddict server, SQLite store) on a loopback port, in the test process. Its authorize
/// endpoint has no login form: it signs in <see cref="User"/> at once, as an institution's provider does for a user who
/// already has a session there. It listens on <c>localhost</c> while our server is on <c>127.0.0.1</c>, so the round
/// trip is cross-site for a browser, as with a real provider.
/// </summary>
public sealed class OidcTestProvider : IAsyncDisposable
{
    public const string ClientId = "kaapana";
    public const string ClientSecret = "kaapana-test-secret";

    private readonly WebApplication _app;
    private readonly string _databasePath;

    private OidcTestProvider(WebApplication app, Uri authority, string databasePath)
    {
        _app = app;
        Authority = authority;
        _databasePath = databasePath;
    }

    public Uri Authority { get; }

    /// <summary>Who the provider signs in next: subject, preferred_username, email.</summary>
    public (string Subject, string UserName, string Email) User { get; set; } = ("oidc-subject-1", "rosa.oidc", "rosa@example.org");

    /// <summary>How many authorization requests the provider answered (each one a real round trip).</summary>
    public int Authorizations { get; private set; }

    /// <param name="redirectUri">Our server's callback, registered for the client.</param>
    public static async Task<OidcTestProvider> StartAsync(Uri redirectUri)
    {
        var port = TestPorts.Free();
        var authority = new Uri($"http://localhost:{port}/");
        var databasePath = Path.Combine(Path.GetTempPath(), $"kaapana-oidc-provider-{Guid.NewGuid():N}.db");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(authority.ToString());
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<ProviderDbContext>(o =>
        {
            o.UseSqlite($"Data Source={databasePath};Pooling=false");
            o.UseOpenIddict();
        });
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<ProviderDbContext>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token");
                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                o.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email);
                o.AddEphemeralEncryptionKey().AddEphemeralSigningKey().DisableAccessTokenEncryption();
                o.UseAspNetCore().EnableAuthorizationEndpointPassthrough().DisableTransportSecurityRequirement();
            });

        var app = builder.Build();
        var provider = new OidcTestProvider(app, authority, databasePath);
        app.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post], (HttpContext http) =>
        {
            var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
            provider.Authorizations++;
            var (subject, userName, email) = provider.User;
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, subject).SetClaim(Claims.Name, userName)
                .SetClaim(Claims.PreferredUsername, userName).SetClaim(Claims.Email, email);
            identity.SetScopes(request.GetScopes());
            identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ProviderDbContext>().Database.EnsureCreatedAsync();
            await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().CreateAsync(new OpenIddictApplicationDescriptor
            {
                ClientId = ClientId,
                ClientSecret = ClientSecret,
                ClientType = ClientTypes.Confidential,
                DisplayName = "Kaapana (test)",
                RedirectUris = { redirectUri },
                Permissions =
                {
                    Permissions.Endpoints.Authorization, Permissions.Endpoints.Token,
                    Permissions.GrantTypes.AuthorizationCode, Permissions.ResponseTypes.Code,
                    Permissions.Scopes.Profile, Permissions.Scopes.Email,
                },
                Requirements = { Requirements.Features.ProofKeyForCodeExchange },
            });
        }
        await app.StartAsync();
        return provider;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        File.Delete(_databasePath);
    }

    internal sealed class ProviderDbContext(DbContextOptions<ProviderDbContext> options) : DbContext(options);
}
