using System.Net;
using Kaapana.Core.Auth;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.Auth.Hardening;

/// <summary>
/// Kaapana:ReverseProxy against a real server: X-Forwarded-For/-Proto are believed only from a configured proxy (here the
/// test itself on 127.0.0.1). Then each forwarded client has its own sign-in rate-limit bucket and its own address in the
/// audit trail, and a forwarded https request gets HSTS; unconfigured, the same headers change nothing.
/// </summary>
public sealed class ReverseProxyTests : IDisposable
{
    private const int PermitLimit = 3;
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("kaapana-proxy-");

    private Task<KaapanaServer> StartAsync(bool behindProxy, string name)
    {
        var settings = new Dictionary<string, string>
        {
            ["Kaapana__Viewer__Enabled"] = "false",
            ["Kaapana__Auth__RateLimit__PermitLimit"] = PermitLimit.ToString(),
            ["Kaapana__Auth__RateLimit__Window"] = "00:04:00",
        };
        if (behindProxy) settings["Kaapana__ReverseProxy__KnownProxies__0"] = "127.0.0.1";
        return KaapanaServer.StartAsync(_data.CreateSubdirectory(name).FullName, settings);
    }

    [Fact]
    public async Task Behind_a_configured_proxy_each_forwarded_client_has_its_own_bucket_and_audited_address()
    {
        await using var server = await StartAsync(behindProxy: true, "proxied");
        await using var accounts = new AccountStore(server.IndexPath);
        await accounts.CreateAsync("pia", "Pia-right-pw-1", KaapanaRoles.Researcher);

        // Client 203.0.113.7 uses up its bucket with wrong passwords; then it gets 429.
        for (var i = 0; i < PermitLimit; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await WrongPasswordAsync(server, "203.0.113.7", "https"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await WrongPasswordAsync(server, "203.0.113.7", "https"));
        // Another client behind the same proxy still has its own.
        Assert.Equal(HttpStatusCode.Unauthorized, await WrongPasswordAsync(server, "203.0.113.8", "https"));

        // The trail names the clients, not the proxy.
        using var admin = server.CreateClient();
        var (items, body) = await AuditTrailPoll.WaitAsync(admin, $"actor=pia&action={Kaapana.Core.Audit.AuditActions.BasicSignIn}&limit=100",
            list => list.Count >= PermitLimit + 1);
        var addresses = items.Select(e => e.GetProperty("sourceAddress").GetString()).ToList();
        Assert.Equal(PermitLimit, addresses.Count(a => a == "203.0.113.7"));
        Assert.Contains("203.0.113.8", addresses);
        Assert.DoesNotContain("127.0.0.1", addresses);
        Assert.DoesNotContain("Pia-wrong", body);

        // Forwarded https: the answer carries HSTS, as on a direct https connection.
        using var health = await SendAsync(server, "/healthz", "203.0.113.9", "https", auth: null);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(health.Headers.Contains("Strict-Transport-Security"), "no HSTS on a request forwarded as https");
    }

    [Fact]
    public async Task Without_a_configured_proxy_forwarded_headers_change_nothing()
    {
        await using var server = await StartAsync(behindProxy: false, "direct");
        await using var accounts = new AccountStore(server.IndexPath);
        await accounts.CreateAsync("quinn", "Quinn-right-pw-1", KaapanaRoles.Researcher);

        // The admin's first request is one password check from 127.0.0.1; its header is cached after it.
        using var admin = server.CreateClient();
        using (var first = await admin.GetAsync("/api/projects")) Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        // Claiming other addresses does not give a client fresh buckets: all share the real one (127.0.0.1).
        for (var i = 0; i < PermitLimit - 1; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await WrongPasswordAsync(server, $"198.51.100.{i + 1}", "https", user: "quinn"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await WrongPasswordAsync(server, "198.51.100.99", "https", user: "quinn"));

        var (items, _) = await AuditTrailPoll.WaitAsync(admin, $"actor=quinn&action={Kaapana.Core.Audit.AuditActions.BasicSignIn}&limit=100",
            list => list.Count >= PermitLimit - 1);
        Assert.All(items, e => Assert.Equal("127.0.0.1", e.GetProperty("sourceAddress").GetString()));

        using var health = await SendAsync(server, "/healthz", "198.51.100.7", "https", auth: null);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.False(health.Headers.Contains("Strict-Transport-Security"), "HSTS on plain HTTP because of a header the client chose");
    }

    private static async Task<HttpStatusCode> WrongPasswordAsync(KaapanaServer server, string client, string scheme, string user = "pia")
    {
        using var response = await SendAsync(server, "/api/projects", client, scheme, TestCredentials.Basic(user, $"{char.ToUpperInvariant(user[0])}{user[1..]}-wrong-pw"));
        return response.StatusCode;
    }

    private static async Task<HttpResponseMessage> SendAsync(KaapanaServer server, string path, string client, string scheme,
        System.Net.Http.Headers.AuthenticationHeaderValue? auth)
    {
        using var http = TestCredentials.Anonymous(server.BaseAddress);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Forwarded-For", client);
        request.Headers.Add("X-Forwarded-Proto", scheme);
        request.Headers.Authorization = auth;
        return await http.SendAsync(request);
    }

    public void Dispose() => _data.Delete(recursive: true);
}
