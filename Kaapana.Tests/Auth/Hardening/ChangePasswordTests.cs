using System.Net;
using Kaapana.Core.Audit;
using Kaapana.Core.Auth;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.Auth.Hardening;

/// <summary>
/// <c>/account/password</c> against a real server, as a browser without JavaScript posts it: the user menu links to it;
/// a mismatched confirmation, a wrong current password and a password Identity's rules refuse are each named and change
/// nothing; the right one changes it, keeps this browser signed in, ends the old password on the page and over Basic, and
/// leaves <c>auth.password-changed</c> entries (never a password) in the audit trail.
/// </summary>
public sealed class ChangePasswordTests : IDisposable
{
    private const string User = "petra", OldPassword = "Petra-old-pw-1", NewPassword = "Petra-new-pw-2";
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("kaapana-password-");

    [Fact]
    public async Task A_user_changes_their_password_and_only_the_new_one_works_afterwards()
    {
        await using var server = await KaapanaServer.StartAsync(_data.FullName, new Dictionary<string, string> { ["Kaapana__Viewer__Enabled"] = "false" });
        await using var accounts = new AccountStore(server.IndexPath);
        await accounts.CreateAsync(User, OldPassword, KaapanaRoles.Researcher);
        using var browser = new SignInForm(server.BaseAddress);
        Assert.Equal("signed-in", await browser.AttemptAsync(User, OldPassword));

        // The user menu (rendered for a signed-in user) links to the page.
        Assert.Contains("href=\"account/password\"", await browser.Http.GetStringAsync("/"));

        Assert.Contains("The two new passwords differ.", await ChangeAsync(browser, OldPassword, NewPassword, NewPassword + "x"));
        Assert.Contains("The current password is wrong.", await ChangeAsync(browser, "Not-my-password-1", NewPassword, NewPassword));
        Assert.Contains("Passwords must be at least 8 characters.", await ChangeAsync(browser, OldPassword, "Short1!", "Short1!"));
        Assert.Equal(HttpStatusCode.OK, await BasicStatusAsync(server, OldPassword)); // still the old one

        using (var changed = await SubmitAsync(browser, OldPassword, NewPassword, NewPassword))
        {
            Assert.Contains("Your password was changed.", await changed.Content.ReadAsStringAsync());
            Assert.True(SignInForm.SetsAuthCookie(changed), "no fresh sign-in cookie after the change");
        }
        // This browser stays signed in (its cookie carries the new security stamp).
        using (var home = await browser.Http.GetAsync("/")) Assert.Equal(HttpStatusCode.OK, home.StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await BasicStatusAsync(server, OldPassword));
        Assert.Equal(HttpStatusCode.OK, await BasicStatusAsync(server, NewPassword));
        using (var other = new SignInForm(server.BaseAddress))
        {
            Assert.Equal("wrong", await other.AttemptAsync(User, OldPassword));
            Assert.Equal("signed-in", await other.AttemptAsync(User, NewPassword));
        }

        using var admin = server.CreateClient();
        var (items, body) = await AuditTrailPoll.WaitAsync(admin, $"actor={User}&action={AuditActions.PasswordChanged}&limit=50",
            entries => entries.Count == 3);
        Assert.Equal([$"{User}:success", $"{User}:denied", $"{User}:denied"], AuditTrailPoll.ActorOutcomes(items)); // newest first
        foreach (var password in new[] { OldPassword, NewPassword, "Not-my-password-1", "Short1!" })
        {
            Assert.DoesNotContain(password, body, StringComparison.Ordinal);
            Assert.DoesNotContain(password, server.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Strangers_are_sent_to_the_sign_in_page()
    {
        await using var server = await KaapanaServer.StartAsync(_data.FullName, new Dictionary<string, string> { ["Kaapana__Viewer__Enabled"] = "false" });
        using var stranger = new SignInForm(server.BaseAddress);
        using var response = await stranger.Http.GetAsync("/account/password");
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/signin", new Uri(server.BaseAddress, response.Headers.Location!).AbsolutePath);
    }

    private static async Task<string> ChangeAsync(SignInForm browser, string current, string next, string confirm)
    {
        using var response = await SubmitAsync(browser, current, next, confirm);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {html}");
        Assert.DoesNotContain("Your password was changed.", html);
        return html;
    }

    private static Task<HttpResponseMessage> SubmitAsync(SignInForm browser, string current, string next, string confirm) =>
        browser.SubmitAsync("/account/password", "password",
        [
            new("Input.CurrentPassword", current),
            new("Input.NewPassword", next),
            new("Input.ConfirmPassword", confirm),
        ]);

    private static async Task<HttpStatusCode> BasicStatusAsync(KaapanaServer server, string password)
    {
        using var http = TestCredentials.Anonymous(server.BaseAddress);
        http.DefaultRequestHeaders.Authorization = TestCredentials.Basic(User, password);
        using var response = await http.GetAsync("/api/projects");
        return response.StatusCode;
    }

    public void Dispose() => _data.Delete(recursive: true);
}
