using System.Net.Http.Headers;
using System.Text;

namespace Kaapana.Tests;

/// <summary>
/// The admin account every test server is started with (<c>Kaapana__AdminPassword</c>), and HTTP clients that carry it as
/// HTTP Basic credentials: every page and API except <c>/healthz</c> requires an authenticated user.
/// </summary>
public static class TestCredentials
{
    public const string AdminUser = "admin";
    public const string AdminPassword = "Test-admin-pw-4711";

    /// <summary>Environment for a server process: the admin account's first-run password.</summary>
    public static void AddTo(IDictionary<string, string?> environment) => environment["Kaapana__AdminPassword"] = AdminPassword;

    public static AuthenticationHeaderValue Basic(string user = AdminUser, string password = AdminPassword) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>A client signed in as the admin (HTTP Basic), for the APIs and DICOMweb.</summary>
    public static HttpClient Client(Uri baseAddress, TimeSpan? timeout = null)
    {
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(100) };
        http.DefaultRequestHeaders.Authorization = Basic();
        return http;
    }

    /// <summary>A client without credentials, to check that a door is shut.</summary>
    public static HttpClient Anonymous(Uri baseAddress) => new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
}
