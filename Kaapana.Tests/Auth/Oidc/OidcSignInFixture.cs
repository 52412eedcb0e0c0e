using System.Net;
using System.Text.RegularExpressions;
using Kaapana.Core.Archive.Index;
using Kaapana.Tests.Archive.Dicom;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Auth.Oidc;

/// <summary>Our server (child process) configured with <see cref="OidcTestProvider"/> as its OpenID Connect provider.</summary>
public sealed partial class OidcSignInFixture : IAsyncLifetime
{
    public const string DisplayName = "Test IdP";
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("kaapana-oidc-");

    public KaapanaServer Server { get; private set; } = null!;
    public OidcTestProvider Provider { get; private set; } = null!;
    public AccountStore Accounts { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var http = new Uri($"http://127.0.0.1:{TestPorts.Free()}");
        Provider = await OidcTestProvider.StartAsync(new Uri(http, "/signin/oidc/callback"));
        Server = await KaapanaServer.StartAsync(_data.FullName, new Dictionary<string, string>
        {
            ["Kaapana__Auth__Oidc__Authority"] = Provider.Authority.ToString(),
            ["Kaapana__Auth__Oidc__ClientId"] = OidcTestProvider.ClientId,
            ["Kaapana__Auth__Oidc__ClientSecret"] = OidcTestProvider.ClientSecret,
            ["Kaapana__Auth__Oidc__DisplayName"] = DisplayName,
            ["Kaapana__Auth__Oidc__RequireHttpsMetadata"] = "false",
            ["Kaapana__Viewer__Enabled"] = "false",
            // MudBlazor's static files need Development when the server runs from build output (FIELD-NOTES); the browser test loads them.
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
        }, http: http);
        Accounts = new AccountStore(Server.IndexPath);
    }

    /// <summary>A cookie-keeping client that follows redirects, as a browser does (no credentials of its own).</summary>
    public HttpClient Browser() =>
        new(new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true })
        {
            BaseAddress = Server.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };

    /// <summary>
    /// Opens the sign-in page, follows its "Sign in with ..." link through the provider and back, and the callback page's
    /// refresh. Returns where the browser ended and that page's HTML.
    /// </summary>
    public async Task<(Uri At, string Html)> SignInThroughProviderAsync(HttpClient browser, string returnUrl = "/")
    {
        var signInPage = await browser.GetStringAsync($"/signin?returnUrl={Uri.EscapeDataString(returnUrl)}");
        var link = ExternalLink().Match(signInPage);
        Assert.True(link.Success, $"No external sign-in link on /signin:\n{signInPage}");
        Assert.Equal($"Sign in with {DisplayName}", WebUtility.HtmlDecode(link.Groups["text"].Value).Trim());

        using var callback = await browser.GetAsync(WebUtility.HtmlDecode(link.Groups["href"].Value));
        var callbackHtml = await callback.Content.ReadAsStringAsync();
        var at = callback.RequestMessage!.RequestUri!;
        var refresh = MetaRefresh().Match(callbackHtml);
        if (!refresh.Success) return (at, callbackHtml); // refused: the server redirected back to the sign-in page
        Assert.Equal("/signin/oidc/callback", at.AbsolutePath);
        using var landing = await browser.GetAsync(WebUtility.HtmlDecode(refresh.Groups["url"].Value));
        return (landing.RequestMessage!.RequestUri!, await landing.Content.ReadAsStringAsync());
    }

    /// <summary>The server's index database, opened beside it (SQLite WAL), for what no API shows (logins, lockout).</summary>
    public KaapanaDbContext Index() =>
        new(new DbContextOptionsBuilder<KaapanaDbContext>()
            .UseSqlite(new SqliteConnectionStringBuilder { DataSource = Server.IndexPath, Pooling = false }.ToString()).Options);

    public async Task DisposeAsync()
    {
        if (Accounts is not null) await Accounts.DisposeAsync();
        if (Server is not null) await Server.DisposeAsync();
        if (Provider is not null) await Provider.DisposeAsync();
        _data.Delete(recursive: true);
    }

    [GeneratedRegex("""<a href="(?<href>[^"]+)" data-testid="signin-external"[^>]*>(?<text>[^<]*)</a>""")]
    private static partial Regex ExternalLink();

    [GeneratedRegex("""<meta http-equiv="refresh" content="0;url=(?<url>[^"]+)">""")]
    private static partial Regex MetaRefresh();
}
