using System.Net;
using System.Text.RegularExpressions;

namespace Kaapana.Tests.Auth.Hardening;

/// <summary>
/// The sign-in page as a browser without JavaScript uses it: GET the form (antiforgery cookie and token), POST it back.
/// Keeps its cookies, follows no redirects, so a test sees the page's own answer.
/// </summary>
/// <param name="certificateCheck">For an HTTPS server with a test certificate: which server certificate to accept.</param>
public sealed partial class SignInForm(Uri baseAddress, System.Net.Security.RemoteCertificateValidationCallback? certificateCheck = null) : IDisposable
{
    public const string WrongMessage = "Wrong user name or password.";
    public const string LockedMessage = "This account is locked after too many wrong passwords.";

    private readonly CookieContainer _cookies = new();
    private HttpClient? _http;

    public CookieContainer Cookies => _cookies;

    public HttpClient Http => _http ??= new HttpClient(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        CookieContainer = _cookies,
        SslOptions = { RemoteCertificateValidationCallback = certificateCheck },
    })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>Fetches a fresh form and posts <paramref name="user"/>/<paramref name="password"/>; the caller disposes the answer.</summary>
    public Task<HttpResponseMessage> PostAsync(string user, string password) =>
        SubmitAsync("/signin", "signin", [new("Input.UserName", user), new("Input.Password", password)]);

    /// <summary>GETs the static page at <paramref name="path"/> and posts its form <paramref name="formName"/> back with its antiforgery token.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(string path, string formName, IEnumerable<KeyValuePair<string, string>> fields)
    {
        using var page = await Http.GetAsync(path);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)page.StatusCode} {html}");
        var token = TokenPattern().Match(html);
        Assert.True(token.Success, $"no antiforgery token on {path}:\n{html}");
        return await Http.PostAsync(path, new FormUrlEncodedContent(
        [
            new("_handler", formName),
            new("__RequestVerificationToken", WebUtility.HtmlDecode(token.Groups[1].Value)),
            .. fields,
        ]));
    }

    /// <summary>What one attempt came to: "signed-in" (redirect with the auth cookie), "wrong", "locked", or the status and body.</summary>
    public async Task<string> AttemptAsync(string user, string password)
    {
        using var response = await PostAsync(user, password);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.Redirect && SetsAuthCookie(response)) return "signed-in";
        if (response.StatusCode == HttpStatusCode.OK && body.Contains(LockedMessage, StringComparison.Ordinal)) return "locked";
        if (response.StatusCode == HttpStatusCode.OK && body.Contains(WrongMessage, StringComparison.Ordinal)) return "wrong";
        return $"{(int)response.StatusCode}: {body}";
    }

    public static bool SetsAuthCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("Kaapana.Auth=", StringComparison.Ordinal)
            && !c.StartsWith("Kaapana.Auth=;", StringComparison.Ordinal));

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    public void Dispose() => _http?.Dispose();
}
