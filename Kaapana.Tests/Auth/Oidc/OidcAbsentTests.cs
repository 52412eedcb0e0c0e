using System.Net;

namespace Kaapana.Tests.Auth.Oidc;

/// <summary>Without <c>Kaapana:Auth:Oidc:Authority</c> the sign-in page offers local accounts only and no provider door exists.</summary>
public sealed class OidcAbsentTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Fact]
    public async Task The_sign_in_page_has_no_provider_button_and_signin_oidc_challenges_nobody()
    {
        using var http = fixture.Anonymous();
        using var page = await http.GetAsync("/signin");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"password\"", html);
        Assert.DoesNotContain("signin-external", html);
        Assert.DoesNotContain("Sign in with", html);

        // Not mapped: the anonymous request meets the ordinary sign-in redirect, never a provider's authorize URL.
        using var challenge = await http.GetAsync("/signin/oidc?returnUrl=/");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var location = challenge.Headers.Location!;
        var target = location.IsAbsoluteUri ? location : new Uri(fixture.Server.BaseAddress, location);
        Assert.Equal(fixture.Server.BaseAddress.Authority, target.Authority);
        Assert.Equal("/signin", target.AbsolutePath);
    }
}
