using Microsoft.Playwright;

namespace Kaapana.Tests.Browser;

/// <summary>
/// Signs a browser in as the test admin through the sign-in page (<c>/signin</c>: fields labelled "User name" and "Password",
/// a "Sign in" button), so the auth cookie is set for the pages, the viewer and its same-origin DICOMweb calls.
/// </summary>
public static class BrowserSignIn
{
    public static async Task AsAdminAsync(IPage page, Uri baseAddress, string user = TestCredentials.AdminUser, string password = TestCredentials.AdminPassword)
    {
        await page.GotoAsync(new Uri(baseAddress, "/signin").ToString());
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/signin", StringComparison.OrdinalIgnoreCase), new() { Timeout = 30000 });
    }
}
