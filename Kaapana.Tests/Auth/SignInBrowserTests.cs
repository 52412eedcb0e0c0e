using System.Text.RegularExpressions;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Browser;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Kaapana.Tests.Auth;

/// <summary>
/// Chromium against a real server: a stranger lands on the sign-in page, a wrong password is named, the admin signs in,
/// creates a researcher on /admin/users, signs out; the researcher signs in and is refused the admin page.
/// Screenshots in <c>Kaapana.Tests/TestResults/web/signin-*</c>.
/// </summary>
public sealed class SignInBrowserTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("kaapana-auth-web-");

    [Fact]
    public async Task Sign_in_wrong_password_user_admin_sign_out_and_a_researcher_refused_the_admin_page()
    {
        await using var server = await KaapanaServer.StartAsync(_data.FullName, new Dictionary<string, string>
        {
            // MudBlazor's static files need Development when the server runs from build output (FIELD-NOTES).
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Kaapana__Viewer__Enabled"] = "false",
        });
        await using var browser = await Chromium.LaunchAsync("signin", "web", new ViewportSize { Width = 1280, Height = 800 });
        output.WriteLine($"Artifacts: {browser.Artifacts}");
        var page = browser.Page;
        var baseUrl = server.BaseAddress.ToString().TrimEnd('/');
        try
        {
            // A stranger asking for a page is sent to the sign-in page, which remembers where they wanted to go.
            await page.GotoAsync(baseUrl + "/browse");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/signin\\?ReturnUrl=%2Fbrowse$"));
            await browser.ScreenshotAsync("1-signin");

            await SignInAsync(page, TestCredentials.AdminUser, "Not-the-password-1");
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Wrong user name or password.");
            await browser.ScreenshotAsync("2-wrong-password");

            await SignInAsync(page, TestCredentials.AdminUser, TestCredentials.AdminPassword);
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/browse$"), new() { Timeout = 30000 });
            await WaitInteractiveAsync(page);
            await Assertions.Expect(page.Locator("[data-testid=user-name]")).ToHaveTextAsync(TestCredentials.AdminUser);
            await browser.ScreenshotAsync("3-signed-in");

            // Users page: create a researcher; the list shows it with its role.
            await page.GotoAsync(baseUrl + "/admin/users");
            await WaitInteractiveAsync(page);
            await Assertions.Expect(page.Locator("[data-testid=user-row][data-user=admin]")).ToBeVisibleAsync();
            await page.GetByLabel("New user name").FillAsync("rosa");
            await page.GetByLabel("New user password").FillAsync("Rosa-research-1");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
            var rosa = page.Locator("[data-testid=user-row][data-user=rosa]");
            try
            {
                await Assertions.Expect(page.Locator("[data-testid=users-done]")).ToContainTextAsync("Created rosa (Researcher).");
            }
            catch (PlaywrightException)
            {
                // Seen once in a clean-clone run: the click failed on the server ("exception invoking DispatchEventAsync"), the
                // lost-click family the nodes and DICOM-access page tests met. A user clicks again; the test does so once,
                // when nothing was created.
                Assert.Equal(0, await rosa.CountAsync());
                await page.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid=users-done]")).ToContainTextAsync("Created rosa (Researcher).");
            }
            await Assertions.Expect(rosa).ToBeVisibleAsync();
            await Assertions.Expect(rosa).ToHaveAttributeAsync("data-role", "Researcher");

            // A weak password is refused with Identity's reason, and no account appears.
            await page.GetByLabel("New user name").FillAsync("weak");
            await page.GetByLabel("New user password").FillAsync("short");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=users-error]")).ToContainTextAsync("at least 8 characters");
            await Assertions.Expect(page.Locator("[data-testid=user-row][data-user=weak]")).ToHaveCountAsync(0);
            // The admin cannot delete their own account: there is no delete button on their row.
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete admin" })).ToHaveCountAsync(0);
            await browser.ScreenshotAsync("4-users");

            await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/signin$"));
            await page.GotoAsync(baseUrl + "/");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/signin\\?ReturnUrl=%2F$"));
            await browser.ScreenshotAsync("5-signed-out");

            // The researcher signs in to the home page and is refused the admin page.
            await SignInAsync(page, "rosa", "Rosa-research-1");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/$"), new() { Timeout = 30000 });
            await WaitInteractiveAsync(page);
            await Assertions.Expect(page.Locator("[data-testid=user-name]")).ToHaveTextAsync("rosa");
            var refused = await page.GotoAsync(baseUrl + "/admin/users");
            Assert.Equal(403, refused!.Status);
            await Assertions.Expect(page.Locator("body")).ToContainTextAsync("not authorized");
            await browser.ScreenshotAsync("6-researcher-refused");

            // The sign-in page's attempts are audited: admin's wrong and right password, rosa's sign-in; never a password.
            using var http = server.CreateClient();
            var (_, body) = await AuditTrailPoll.WaitAsync(http, "action=auth.signin&limit=50", items =>
                AuditTrailPoll.ActorOutcomes(items) is var seen && seen.Contains("admin:denied") && seen.Contains("admin:success") && seen.Contains("rosa:success"));
            Assert.DoesNotContain("Not-the-password-1", body, StringComparison.Ordinal);
            Assert.DoesNotContain("Rosa-research-1", body, StringComparison.Ordinal);

            // Creating an account is a permission change: audited with who did it, never with the password.
            var (created, createdBody) = await AuditTrailPoll.WaitAsync(http, "action=user.created", items =>
                items.Any(e => e.GetProperty("target").GetString() == "user:rosa"));
            Assert.Equal("admin", created.First(e => e.GetProperty("target").GetString() == "user:rosa").GetProperty("actor").GetString());
            Assert.DoesNotContain("Rosa-research-1", createdBody, StringComparison.Ordinal);
        }
        catch
        {
            await browser.ScreenshotAsync("failure");
            output.WriteLine(browser.Log);
            output.WriteLine(server.Output);
            throw;
        }
    }

    private static async Task SignInAsync(IPage page, string user, string password)
    {
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    private static Task WaitInteractiveAsync(IPage page) =>
        page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });

    public void Dispose() => _data.Delete(recursive: true);
}
