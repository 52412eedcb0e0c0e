using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Kaapana.Server.Infrastructure;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.Auth.Hardening;

/// <summary>
/// The browser hardening headers on every kind of answer of a real server (page, sign-in page, API, DICOMweb, viewer, jobs
/// dashboard, health, a 401), over HTTP and over HTTPS (with a self-signed certificate made here): HSTS and the cookies'
/// Secure flag only on HTTPS; the sign-in and antiforgery cookies always HttpOnly and SameSite=Strict.
/// </summary>
public sealed class SecurityHeadersTests : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("kaapana-headers-");

    [Fact]
    public async Task Every_door_sends_the_headers_and_cookies_are_httponly_strict_and_not_secure_over_http()
    {
        await using var server = await KaapanaServer.StartAsync(_data.FullName, new Dictionary<string, string> { ["Kaapana__Viewer__Enabled"] = "false" });
        using var admin = NoRedirects(server.BaseAddress, TestCredentials.Basic());
        using var anonymous = NoRedirects(server.BaseAddress, null);

        foreach (var (http, path, status) in Doors(admin, anonymous))
        {
            using var response = await http.GetAsync(path);
            Assert.True(status == response.StatusCode, $"{path}: {(int)response.StatusCode}, expected {(int)status}");
            AssertHeaders(response, path, https: false);
        }

        using var form = new SignInForm(server.BaseAddress);
        using (var page = await form.Http.GetAsync("/signin"))
        {
            var antiforgery = Assert.Single(SetCookies(page), c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal));
            AssertCookieFlags(antiforgery, secure: false);
        }
        using var signedIn = await form.PostAsync(TestCredentials.AdminUser, TestCredentials.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        AssertHeaders(signedIn, "/signin", https: false);
        AssertCookieFlags(Assert.Single(SetCookies(signedIn), c => c.StartsWith("Kaapana.Auth=", StringComparison.Ordinal)), secure: false);
    }

    [Fact]
    public async Task Over_https_hsts_is_sent_and_the_cookies_are_secure()
    {
        using var certificate = SelfSigned();
        var pem = Path.Combine(_data.FullName, "tls");
        Directory.CreateDirectory(pem);
        await File.WriteAllTextAsync(Path.Combine(pem, "cert.pem"), certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(pem, "key.pem"), certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        var data = Directory.CreateDirectory(Path.Combine(_data.FullName, "data")).FullName;
        var address = new Uri($"https://127.0.0.1:{KaapanaServer.FreePort()}");
        await using var server = await KaapanaServer.StartAsync(data, new Dictionary<string, string>
        {
            ["Kaapana__Viewer__Enabled"] = "false",
            ["Kestrel__Certificates__Default__Path"] = Path.Combine(pem, "cert.pem"),
            ["Kestrel__Certificates__Default__KeyPath"] = Path.Combine(pem, "key.pem"),
        }, http: address, waitUntilReady: false);
        System.Net.Security.RemoteCertificateValidationCallback ours = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == certificate.Thumbprint;
        using var admin = NoRedirects(address, TestCredentials.Basic(), ours);
        using var anonymous = NoRedirects(address, null, ours);
        await WaitUntilReadyAsync(anonymous, server);

        foreach (var (http, path, status) in Doors(admin, anonymous))
        {
            using var response = await http.GetAsync(path);
            Assert.True(status == response.StatusCode, $"{path}: {(int)response.StatusCode}, expected {(int)status}");
            AssertHeaders(response, path, https: true);
        }

        using var form = new SignInForm(address, ours);
        using (var page = await form.Http.GetAsync("/signin"))
            AssertCookieFlags(Assert.Single(SetCookies(page), c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal)), secure: true);
        using var signedIn = await form.PostAsync(TestCredentials.AdminUser, TestCredentials.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        AssertCookieFlags(Assert.Single(SetCookies(signedIn), c => c.StartsWith("Kaapana.Auth=", StringComparison.Ordinal)), secure: true);
    }

    /// <summary>One door of each kind, with who asks and what it answers (the viewer is switched off here: its 404 page).</summary>
    private static (HttpClient Http, string Path, HttpStatusCode Status)[] Doors(HttpClient admin, HttpClient anonymous) =>
    [
        (admin, "/browse", HttpStatusCode.OK),
        (admin, "/api/projects", HttpStatusCode.OK),
        (admin, "/dicomweb/studies", HttpStatusCode.OK),
        (admin, "/viewer/", HttpStatusCode.NotFound),
        (admin, "/jobs", HttpStatusCode.OK),
        (anonymous, "/signin", HttpStatusCode.OK),
        (anonymous, "/healthz", HttpStatusCode.OK),
        (anonymous, "/api/projects", HttpStatusCode.Unauthorized),
        (anonymous, "/browse", HttpStatusCode.Found),
    ];

    private static void AssertHeaders(HttpResponseMessage response, string path, bool https)
    {
        string Single(string name) => Assert.Single(response.Headers.GetValues(name));
        Assert.Equal("nosniff", Single("X-Content-Type-Options"));
        Assert.Equal("same-origin", Single("Referrer-Policy"));
        Assert.Equal("SAMEORIGIN", Single("X-Frame-Options"));
        Assert.Equal(path.StartsWith("/viewer", StringComparison.Ordinal) ? SecurityHeaders.ViewerPolicy : SecurityHeaders.AppPolicy,
            Single("Content-Security-Policy"));
        if (https) Assert.Equal(SecurityHeaders.StrictTransportSecurity, Single("Strict-Transport-Security"));
        else Assert.False(response.Headers.Contains("Strict-Transport-Security"), $"{path}: HSTS over plain HTTP");
    }

    private static void AssertCookieFlags(string setCookie, bool secure)
    {
        var attributes = setCookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);
        Assert.Equal(secure, attributes.Contains("secure"));
    }

    private static IEnumerable<string> SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [];

    private static HttpClient NoRedirects(Uri baseAddress, System.Net.Http.Headers.AuthenticationHeaderValue? authorization,
        System.Net.Security.RemoteCertificateValidationCallback? certificateCheck = null)
    {
        var http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            SslOptions = { RemoteCertificateValidationCallback = certificateCheck },
        }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = authorization;
        return http;
    }

    private static async Task WaitUntilReadyAsync(HttpClient http, KaapanaServer server)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(90))
        {
            try
            {
                using var response = await http.GetAsync("/healthz");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        Assert.Fail($"The HTTPS server did not answer /healthz within 90 s:\n{server.Output}");
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Round trip through PKCS#12 so the private key is exportable as PEM on every platform.
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pfx), null, X509KeyStorageFlags.Exportable);
    }

    public void Dispose() => _data.Delete(recursive: true);
}
