using System.Net;
using System.Text;
using Kaapana.Core.Auth;

namespace Kaapana.Tests.Auth;

/// <summary>
/// Every door of a real server without, with wrong, and with right credentials: pages and the viewer send strangers to the
/// sign-in page, machine APIs answer 401 (with a Basic challenge on /api and /dicomweb), roles decide /jobs and admin pages,
/// wrong Basic passwords lock the account, and a reset password ends a cached Basic header at once.
/// </summary>
public sealed class AuthDoorsTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Theory]
    [InlineData("/")]
    [InlineData("/browse")]
    [InlineData("/admin/users")]
    [InlineData("/viewer/")]
    public async Task Pages_and_the_viewer_send_strangers_to_the_sign_in_page(string path)
    {
        using var http = fixture.Anonymous();
        using var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        var location = response.Headers.Location!;
        if (!location.IsAbsoluteUri) location = new Uri(fixture.Server.BaseAddress, location);
        Assert.Equal("/signin", location.AbsolutePath);
        Assert.Equal("?ReturnUrl=" + Uri.EscapeDataString(path), location.Query);
    }

    [Theory]
    [InlineData("/api/projects", true)]
    [InlineData("/dicomweb/studies", true)]
    [InlineData("/api/series/1.2.3/thumbnail", true)]
    [InlineData("/jobs", false)]
    [InlineData("/openapi/v1.json", false)]
    public async Task Machine_doors_answer_401_and_never_redirect(string path, bool basicChallenge)
    {
        using var http = fixture.Anonymous();
        using var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(response.Headers.Location);
        if (basicChallenge)
        {
            var challenge = Assert.Single(response.Headers.WwwAuthenticate);
            Assert.Equal("Basic", challenge.Scheme);
            Assert.Contains("realm=\"Kaapana\"", challenge.Parameter);
        }
        else
        {
            Assert.Empty(response.Headers.WwwAuthenticate);
        }
    }

    [Fact]
    public async Task Health_and_the_sign_in_page_are_open()
    {
        using var http = fixture.Anonymous();
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(http, "/healthz"));
        using var page = await http.GetAsync("/signin");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<label for=\"username\">User name</label>", html);
        Assert.Contains("__RequestVerificationToken", html); // antiforgery on the form
    }

    [Fact]
    public async Task Basic_with_a_wrong_password_is_refused_and_the_right_one_opens_api_dicomweb_and_jobs()
    {
        // Wrong passwords for an account of its own: the admin's would count toward the admin's lockout in other tests.
        await fixture.Accounts.CreateAsync("wendy", "Wendy-admin-pw-1", KaapanaRoles.Admin);
        using (var wrong = fixture.As("wendy", "Not-the-password-1"))
        {
            using var response = await wrong.GetAsync("/api/projects");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
            Assert.Equal(HttpStatusCode.Unauthorized, await fixture.StatusAsync(wrong, "/dicomweb/studies"));
        }
        using (var unknown = fixture.As("nobody", TestCredentials.AdminPassword))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await fixture.StatusAsync(unknown, "/api/projects"));
        }

        using var admin = fixture.As("wendy", "Wendy-admin-pw-1");
        Assert.Equal(new[] { HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK }, await RoleDoorStatusesAsync(admin));
    }

    [Fact]
    public async Task A_researcher_reads_the_data_but_gets_403_on_jobs_and_admin_pages()
    {
        const string password = "Researcher-pw-1";
        await fixture.Accounts.CreateAsync("rachel", password, KaapanaRoles.Researcher);
        using var researcher = fixture.As("rachel", password);

        Assert.Equal(new[] { HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden }, await RoleDoorStatusesAsync(researcher));
    }

    /// <summary>
    /// What <paramref name="http"/> gets, in order, at the doors that tell the roles apart: the REST API, DICOMweb, the jobs
    /// dashboard and an admin page. One array, so a failure shows every door's answer at once.
    /// </summary>
    private async Task<HttpStatusCode[]> RoleDoorStatusesAsync(HttpClient http)
    {
        string[] doors = ["/api/projects", "/dicomweb/studies", "/jobs", "/admin/users"];
        var statuses = new HttpStatusCode[doors.Length];
        for (var i = 0; i < doors.Length; i++) statuses[i] = await fixture.StatusAsync(http, doors[i]);
        return statuses;
    }

    [Fact]
    public async Task Wrong_basic_passwords_lock_the_account_until_an_admin_unlocks_it()
    {
        const string password = "Lock-me-pw-1";
        var id = await fixture.Accounts.CreateAsync("locky", password, KaapanaRoles.Researcher);
        using var wrong = fixture.As("locky", "Wrong-pw-1");
        for (var i = 0; i < AuthServerFixture.MaxFailedAccessAttempts; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await fixture.StatusAsync(wrong, "/dicomweb/studies"));
        }

        using var right = fixture.As("locky", password);
        Assert.Equal(HttpStatusCode.Unauthorized, await fixture.StatusAsync(right, "/dicomweb/studies"));
        var row = (await fixture.Accounts.Admin.ListAsync()).Single(u => u.Id == id);
        Assert.True(row.IsLockedOut, "the account should be locked after the wrong passwords");

        Assert.True((await fixture.Accounts.Admin.UnlockAsync(id)).Succeeded);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(right, "/dicomweb/studies"));

        // Each checked password is in the audit trail: the wrong ones and the locked-out one denied, the last one a success.
        using var admin = fixture.Server.CreateClient();
        var (_, body) = await AuditTrailPoll.WaitAsync(admin, "actor=locky&action=auth.basic&limit=100", items =>
        {
            var outcomes = AuditTrailPoll.ActorOutcomes(items);
            return outcomes.Count(o => o == "locky:denied") == AuthServerFixture.MaxFailedAccessAttempts + 1 && outcomes.Count(o => o == "locky:success") == 1;
        });
        Assert.DoesNotContain("Wrong-pw-1", body, StringComparison.Ordinal);
        Assert.DoesNotContain(password, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reset_password_or_a_role_change_takes_effect_on_the_next_basic_request()
    {
        const string password = "Before-reset-pw-1", newPassword = "After-reset-pw-2";
        var id = await fixture.Accounts.CreateAsync("resetme", password, KaapanaRoles.Researcher);
        using var old = fixture.As("resetme", password);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(old, "/api/projects")); // verified and cached
        Assert.Equal(HttpStatusCode.Forbidden, await fixture.StatusAsync(old, "/jobs"));

        Assert.True((await fixture.Accounts.Admin.ChangeRoleAsync(id, KaapanaRoles.Admin)).Succeeded);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(old, "/jobs")); // the cached principal was rebuilt with the role

        Assert.True((await fixture.Accounts.Admin.ResetPasswordAsync(id, newPassword)).Succeeded);
        Assert.Equal(HttpStatusCode.Unauthorized, await fixture.StatusAsync(old, "/api/projects"));
        using var renewed = fixture.As("resetme", newPassword);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(renewed, "/api/projects"));
    }

    [Fact]
    public async Task Sign_out_takes_only_a_form_post_with_an_antiforgery_token()
    {
        using var admin = fixture.As(TestCredentials.AdminUser, TestCredentials.AdminPassword);
        // A cross-site page could post this form; without the token it must not sign anyone out.
        using var forged = await admin.PostAsync("/signout", new FormUrlEncodedContent([new("returnUrl", "/")]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        // No GET sign-out (a link or an <img> could trigger it): the address answers only POST.
        Assert.Contains(await fixture.StatusAsync(admin, "/signout"), new[] { HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed });
    }

    [Fact]
    public async Task The_configured_password_and_basic_headers_never_reach_the_log()
    {
        using (var admin = fixture.As(TestCredentials.AdminUser, TestCredentials.AdminPassword))
            Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(admin, "/api/projects"));
        using (var wrong = fixture.As(TestCredentials.AdminUser, TestCredentials.AdminPassword + "x"))
            Assert.Equal(HttpStatusCode.Unauthorized, await fixture.StatusAsync(wrong, "/api/projects"));

        var header = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestCredentials.AdminUser}:{TestCredentials.AdminPassword}"));
        var logs = string.Join("\n", Directory.GetFiles(Path.Combine(fixture.Server.DataDir, "logs")).Select(ReadShared));
        Assert.NotEmpty(logs);
        foreach (var (name, text) in new[] { ("console", fixture.Server.Output), ("log file", logs) })
        {
            Assert.DoesNotContain(TestCredentials.AdminPassword, text);
            Assert.DoesNotContain(header, text);
        }
        Assert.Contains("with the password from Kaapana:AdminPassword", fixture.Server.Output);
        Assert.False(File.Exists(Path.Combine(fixture.Server.DataDir, "admin-password.txt")), "no password file when one is configured");
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
