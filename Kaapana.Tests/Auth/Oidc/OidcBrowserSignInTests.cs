using Kaapana.Tests.Browser;
using Microsoft.Playwright;

namespace Kaapana.Tests.Auth.Oidc;

/// <summary>
/// The round trip in Chromium: the provider (on <c>localhost</c>) is another site than our server (<c>127.0.0.1</c>), so
/// this also shows that our SameSite=Strict sign-in cookie reaches the page the callback sends the browser on to.
/// </summary>
public sealed class OidcBrowserSignInTests(OidcSignInFixture fixture) : IClassFixture<OidcSignInFixture>
{
    [Fact]
    public async Task Clicking_sign_in_with_the_provider_lands_signed_in_on_the_requested_page()
    {
        fixture.Provider.User = ("subject-ida", "ida.oidc", "ida@example.org");
        // With the stricter SameSite rule of RFC 6265bis switched on (Strict cookies withheld for a whole cross-site redirect
        // chain; not yet Chromium's default): a plain redirect from the callback then loses the sign-in cookie, which is why
        // the callback answers with a page that navigates on.
        await using var chromium = await Chromium.LaunchAsync(nameof(Clicking_sign_in_with_the_provider_lands_signed_in_on_the_requested_page), "auth",
            extraArgs: ["--enable-features=CookieSameSiteConsidersRedirectChain"]);
        var page = chromium.Page;
        try
        {
            await page.GotoAsync(new Uri(fixture.Server.BaseAddress, "/signin?returnUrl=%2Fbrowse").ToString());
            await page.GetByRole(AriaRole.Link, new() { Name = $"Sign in with {OidcSignInFixture.DisplayName}" }).ClickAsync();
            await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/browse", new() { Timeout = 30000 });
            await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
            Assert.Equal("ida.oidc", (await page.GetByTestId("user-name").InnerTextAsync()).Trim());
            Assert.StartsWith(fixture.Server.BaseAddress.ToString().TrimEnd('/'), page.Url);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            await chromium.ScreenshotAsync("failure");
            Assert.Fail($"{e.Message}\nat {page.Url}\nbrowser log:\n{chromium.Log}\nserver:\n{fixture.Server.Output[^Math.Min(4000, fixture.Server.Output.Length)..]}");
        }
    }
}
