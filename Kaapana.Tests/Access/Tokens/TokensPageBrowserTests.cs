using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Browser;
using Microsoft.Playwright;

namespace Kaapana.Tests.Access.Tokens;

/// <summary>
/// <c>/account/tokens</c> in Debian's Chromium at 1280×800 against a real server: a token made on the page is shown once,
/// works as Bearer on /api, is not on the page after a reload, and stops working the moment it is revoked there.
/// </summary>
public sealed class TokensPageBrowserTests
{
    [Fact]
    public async Task A_token_created_on_the_page_is_shown_once_works_and_revoking_it_there_shuts_it_out()
    {
        Assert.True(File.Exists(Chromium.ExecutablePath), $"{Chromium.ExecutablePath} not found: install the Debian package chromium.");
        var data = Directory.CreateTempSubdirectory("kaapana-tokens-page-");
        KaapanaServer? server = null;
        try
        {
            server = await KaapanaServer.StartAsync(data.FullName, new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development", // MudBlazor's static files from build output (FIELD-NOTES)
                ["Kaapana__Viewer__Enabled"] = "false",
            });
            using (var admin = server.CreateClient())
                Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/projects", new { name = "tok-ui-lung" })).StatusCode);

            await using var browser = await Chromium.LaunchAsync("tokens-page", "web", new ViewportSize { Width = 1280, Height = 800 });
            var page = browser.Page;
            try
            {
                await BrowserSignIn.AsAdminAsync(page, server.BaseAddress);
                await page.GotoAsync(new Uri(server.BaseAddress, "/").ToString());
                await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
                Assert.Equal("account/tokens", await page.GetByRole(AriaRole.Link, new() { Name = "API tokens" }).GetAttributeAsync("href"));
                await page.GotoAsync(new Uri(server.BaseAddress, "/account/tokens").ToString());
                await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
                await Assertions.Expect(page.Locator("[data-testid=no-tokens]")).ToBeVisibleAsync();
                await AssertLabelledAsync(page);

                await page.GetByLabel("Token name").FillAsync("ui-script");
                await page.GetByLabel("tok-ui-lung").CheckAsync();
                await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid=token-created]")).ToContainTextAsync("shown only this once");
                var text = await page.Locator("#new-token").InputValueAsync();
                Assert.StartsWith("kpat_", text);
                var row = page.Locator("[data-testid=token-row][data-name=ui-script]");
                await Assertions.Expect(row).ToHaveAttributeAsync("data-status", "active");
                await Assertions.Expect(row).ToContainTextAsync("tok-ui-lung");
                await Assertions.Expect(row).ToContainTextAsync("read only");
                await page.GetByRole(AriaRole.Button, new() { Name = "Copy token" }).ClickAsync(); // clipboard may be refused headless: either message is fine
                await browser.ScreenshotAsync("1-created");

                using var bearer = TestCredentials.Anonymous(server.BaseAddress);
                bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", text);
                Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/api/projects")).StatusCode);

                // Shown once: dismissed, and not there after a reload either.
                await page.GetByRole(AriaRole.Button, new() { Name = "I have copied it" }).ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid=token-created]")).ToHaveCountAsync(0);
                await page.ReloadAsync();
                await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
                await Assertions.Expect(row).ToHaveAttributeAsync("data-status", "active");
                Assert.DoesNotContain(text[18..], await page.ContentAsync());

                await page.GetByRole(AriaRole.Button, new() { Name = "Revoke ui-script" }).ClickAsync();
                await page.GetByRole(AriaRole.Button, new() { Name = "Really revoke ui-script" }).ClickAsync();
                await Assertions.Expect(row).ToHaveAttributeAsync("data-status", "revoked");
                await browser.ScreenshotAsync("2-revoked");
                using var refused = await bearer.GetAsync("/api/projects");
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                Assert.DoesNotContain(text, server.Output);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw await browser.FailureAsync(e, server.Output);
            }
        }
        finally
        {
            if (server is not null) await server.DisposeAsync();
            data.Delete(recursive: true);
        }
    }

    private static async Task AssertLabelledAsync(IPage page)
    {
        var unlabelled = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')].filter(e =>
                !(e.getAttribute('aria-label') || e.labels?.length || e.getAttribute('aria-labelledby') || (e.tagName === 'BUTTON' && e.textContent.trim()))
                && e.offsetParent !== null).map(e => e.outerHTML.substring(0, 200))
            """);
        Assert.True(unlabelled.Length == 0, $"Visible controls without a label on /account/tokens:{Environment.NewLine}{string.Join(Environment.NewLine, unlabelled)}");
    }
}
