using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.Auth;

/// <summary>One real server (child process, configured admin password, lockout after 3 wrong passwords) for the door tests.</summary>
public sealed class AuthServerFixture : IAsyncLifetime
{
    public const int MaxFailedAccessAttempts = 3;
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("kaapana-auth-");

    public KaapanaServer Server { get; private set; } = null!;
    public AccountStore Accounts { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await KaapanaServer.StartAsync(_data.FullName, new Dictionary<string, string>
        {
            ["Kaapana__Auth__MaxFailedAccessAttempts"] = MaxFailedAccessAttempts.ToString(),
            ["Kaapana__Viewer__Enabled"] = "false",
            // The door tests check far more wrong passwords and refused tokens a minute than the shipped per-address limit
            // allows; the limit itself is tested in Auth/Hardening/SignInRateLimitTests.
            ["Kaapana__Auth__RateLimit__PermitLimit"] = "1000",
        });
        Accounts = new AccountStore(Server.IndexPath);
    }

    /// <summary>No credentials and no redirect following: the test sees the 302 or 401 itself.</summary>
    public HttpClient Anonymous() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public HttpClient As(string user, string password)
    {
        var http = Anonymous();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }

    public async Task<HttpStatusCode> StatusAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return response.StatusCode;
    }

    public async Task DisposeAsync()
    {
        if (Accounts is not null) await Accounts.DisposeAsync();
        if (Server is not null) await Server.DisposeAsync();
        _data.Delete(recursive: true);
    }
}
