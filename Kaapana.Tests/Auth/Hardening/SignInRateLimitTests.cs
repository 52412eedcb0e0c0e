using System.Net;
using System.Text.Json;
using Kaapana.Core.Auth;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.Auth.Hardening;

/// <summary>
/// The per-address limit on password checks (Kaapana:Auth:RateLimit) against a real server configured with a small one:
/// sign-in form posts and uncached HTTP Basic headers draw on one bucket per client address; when it is empty both doors
/// answer 429 with Retry-After without checking any password, while cached Basic headers and other requests pass.
/// </summary>
public sealed class SignInRateLimitTests : IDisposable
{
    private const int PermitLimit = 6;
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("kaapana-ratelimit-");

    [Fact]
    public async Task Password_checks_beyond_the_limit_get_429_with_retry_after_while_cached_basic_headers_pass()
    {
        await using var server = await StartServerAsync();
        await using var accounts = new AccountStore(server.IndexPath);
        await accounts.CreateAsync("ursula", "Ursula-right-pw-1", KaapanaRoles.Researcher);
        var victorId = await accounts.CreateAsync("victor", "Victor-right-pw-1", KaapanaRoles.Researcher);

        // Two password checks (admin's and ursula's first requests), then 40 requests with the cached headers: were those
        // counted, the bucket would be empty long before the guesses below.
        using var admin = server.CreateClient();
        using var ursula = Basic(server, "ursula", "Ursula-right-pw-1");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(admin, "/api/projects"));
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(ursula, "/dicomweb/studies"));
        }

        // The remaining four tokens: two wrong passwords on the page, two over Basic; all answered normally.
        using var form = new SignInForm(server.BaseAddress);
        Assert.Equal("wrong", await form.AttemptAsync("ursula", "Guess-page-1"));
        Assert.Equal("wrong", await form.AttemptAsync("nobody-here", "Guess-page-2"));
        using (var wrong = Basic(server, "ursula", "Guess-basic-1")) Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(wrong, "/api/projects"));
        using (var wrong = Basic(server, "nobody-here", "Guess-basic-2")) Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(wrong, "/api/projects"));

        // Empty: the page's post and a new Basic header get 429 and a Retry-After, and no password is checked.
        using (var page = await form.PostAsync("victor", "Guess-page-3"))
            await AssertRateLimitedAsync(page);
        using (var basic = Basic(server, "victor", "Guess-basic-3"))
        using (var response = await basic.GetAsync("/dicomweb/studies"))
            await AssertRateLimitedAsync(response);
        using (var right = Basic(server, "victor", "Victor-right-pw-1"))
        using (var response = await right.GetAsync("/api/projects"))
            await AssertRateLimitedAsync(response);
        Assert.Equal(0, (await accounts.Admin.ListAsync()).Single(u => u.Id == victorId).FailedAttempts);

        // Everything that checks no password goes on: the form itself, health, and the cached headers.
        using (var get = await form.Http.GetAsync("/signin")) Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(form.Http, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(admin, "/api/projects"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(ursula, "/dicomweb/studies"));

        // The three 429s above are one audit entry (one per address and window). A token created afterwards is recorded
        // after them in the ordered trail, so once it shows, any further entry for the refusals would show too.
        await Access.Tokens.ApiTokenClient.CreateAsync(admin, "marker");
        await AuditTrailPoll.WaitAsync(admin, $"action={Kaapana.Core.Audit.AuditActions.TokenCreated}&limit=10", items => items.Count == 1);
        var (limited, body) = await AuditTrailPoll.WaitAsync(admin, $"action={Kaapana.Core.Audit.AuditActions.SignInRateLimited}&limit=10", _ => true);
        var entry = Assert.Single(limited);
        Assert.Equal("127.0.0.1", entry.GetProperty("sourceAddress").GetString());
        Assert.Equal(Kaapana.Core.Audit.AuditOutcomes.Denied, entry.GetProperty("outcome").GetString());
        Assert.DoesNotContain("Guess-", body);
    }

    [Fact]
    public async Task Refused_api_tokens_draw_on_the_same_bucket_so_a_spray_of_bad_tokens_ends_in_429_without_more_audit_entries()
    {
        await using var server = await StartServerAsync();
        // One password check (the admin's first request, cached afterwards) leaves five tokens in this address's bucket.
        using var admin = server.CreateClient();
        var issued = await Access.Tokens.ApiTokenClient.CreateAsync(admin, "script");
        using var good = Bearer(server, issued.Text);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(good, "/dicomweb/studies"));

        for (var i = 0; i < PermitLimit - 1; i++)
        {
            using var bad = Bearer(server, $"kpat_not-a-real-token-{i}");
            using var refused = await bad.GetAsync("/dicomweb/studies");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString());
        }
        using (var bad = Bearer(server, "kpat_not-a-real-token-last"))
        using (var limited = await bad.GetAsync("/dicomweb/studies"))
            await AssertRateLimitedAsync(limited);

        // A valid token is no failed check: it goes on working from the same address.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(good, "/dicomweb/studies"));

        // Exactly the five refusals are in the trail. The revocation is recorded after the sixth request, and the trail is
        // written in order, so once it shows, an entry for the sixth would show too.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/tokens/{issued.Id}")).StatusCode);
        await AuditTrailPoll.WaitAsync(admin, $"action={Kaapana.Core.Audit.AuditActions.TokenRevoked}&limit=10", items => items.Count == 1);
        var (refusals, body) = await AuditTrailPoll.WaitAsync(admin, $"action={Kaapana.Core.Audit.AuditActions.TokenRefused}&limit=100", _ => true);
        Assert.Equal(PermitLimit - 1, refusals.Count);
        Assert.DoesNotContain("not-a-real-token", body);
    }

    /// <summary>A server with a bucket of <see cref="PermitLimit"/>: one token back every 40 s, so none comes back while a test runs its few requests.</summary>
    private Task<KaapanaServer> StartServerAsync() => KaapanaServer.StartAsync(_data.FullName, new Dictionary<string, string>
    {
        ["Kaapana__Viewer__Enabled"] = "false",
        ["Kaapana__Auth__RateLimit__PermitLimit"] = PermitLimit.ToString(),
        ["Kaapana__Auth__RateLimit__Window"] = "00:04:00",
    });

    private static HttpClient Bearer(KaapanaServer server, string token)
    {
        var http = TestCredentials.Anonymous(server.BaseAddress);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task AssertRateLimitedAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"{(int)response.StatusCode} {response.RequestMessage!.Method} {response.RequestMessage.RequestUri}: {body}");
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        // At most one refill period (4 min / 6 = 40 s), at least a second.
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(40));
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Too many sign-in attempts from this address.", JsonDocument.Parse(body).RootElement.GetProperty("title").GetString());
        Assert.Empty(response.Headers.WwwAuthenticate);
    }

    private static HttpClient Basic(KaapanaServer server, string user, string password)
    {
        var http = TestCredentials.Anonymous(server.BaseAddress);
        http.DefaultRequestHeaders.Authorization = TestCredentials.Basic(user, password);
        return http;
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return response.StatusCode;
    }

    public void Dispose() => _data.Delete(recursive: true);
}
