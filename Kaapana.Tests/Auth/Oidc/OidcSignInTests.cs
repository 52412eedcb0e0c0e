using System.Net;
using System.Text.Json;
using Kaapana.Core.Auth;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Auth.Oidc;

/// <summary>
/// Sign-in through a real OpenID Connect provider (<see cref="OidcTestProvider"/>): the provider's user becomes a local
/// Researcher without projects, signs in with the local cookie, keeps one account across sign-ins, and is audited.
/// </summary>
public sealed class OidcSignInTests(OidcSignInFixture fixture) : IClassFixture<OidcSignInFixture>
{
    [Fact]
    public async Task First_sign_in_creates_a_researcher_without_projects_and_the_next_one_reuses_it()
    {
        fixture.Provider.User = ("subject-rosa", "rosa.oidc", "rosa@example.org");
        var roundTrips = fixture.Provider.Authorizations;

        using var browser = fixture.Browser();
        var (at, html) = await fixture.SignInThroughProviderAsync(browser);
        Assert.Equal("/", at.AbsolutePath);
        Assert.DoesNotContain("id=\"password\"", html); // the app, not the sign-in form
        Assert.Equal(roundTrips + 1, fixture.Provider.Authorizations);

        // The local cookie opens /api like any signed-in user's; a user without memberships sees no project.
        using (var projects = await browser.GetAsync("/api/projects"))
        {
            Assert.Equal(HttpStatusCode.OK, projects.StatusCode);
            Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(await projects.Content.ReadAsStringAsync()).RootElement.ValueKind);
            Assert.Empty(JsonDocument.Parse(await projects.Content.ReadAsStringAsync()).RootElement.EnumerateArray());
        }
        using (var audit = await browser.GetAsync("/api/audit?limit=1"))
            Assert.Equal(HttpStatusCode.Forbidden, audit.StatusCode); // never an admin

        var account = Assert.Single(await fixture.Accounts.Admin.ListAsync(), u => u.UserName == "rosa.oidc");
        Assert.Equal(KaapanaRoles.Researcher, account.Role);
        await using (var index = fixture.Index())
        {
            Assert.False(await index.ProjectMembers.AnyAsync(m => m.UserId == account.Id));
            var login = Assert.Single(await index.UserLogins.Where(l => l.UserId == account.Id).ToListAsync());
            Assert.Equal("subject-rosa", login.ProviderKey);
            Assert.Equal(fixture.Provider.Authority.ToString(), login.LoginProvider);
        }

        // Again, from a fresh browser: the same account, not a second one.
        using var again = fixture.Browser();
        var (againAt, againHtml) = await fixture.SignInThroughProviderAsync(again);
        Assert.Equal("/", againAt.AbsolutePath);
        Assert.DoesNotContain("id=\"password\"", againHtml); // the app, not the sign-in form
        Assert.Equal(roundTrips + 2, fixture.Provider.Authorizations);
        Assert.Single(await fixture.Accounts.Admin.ListAsync(), u => u.UserName.StartsWith("rosa.oidc", StringComparison.Ordinal));

        using var admin = fixture.Server.CreateClient();
        var (entries, _) = await AuditTrailPoll.WaitAsync(admin, "action=auth.signin&actor=rosa.oidc", items => items.Count >= 2);
        Assert.All(entries, e =>
        {
            Assert.Equal("success", e.GetProperty("outcome").GetString());
            Assert.Equal("oidc", JsonDocument.Parse(e.GetProperty("details").GetString()!).RootElement.GetProperty("method").GetString());
        });
        Assert.Equal(2, entries.Count);
    }

    [Fact]
    public async Task A_provider_user_named_like_a_local_account_gets_an_account_of_its_own()
    {
        var localId = await fixture.Accounts.CreateAsync("lena", "Lena-local-pw-1", KaapanaRoles.Admin);
        fixture.Provider.User = ("subject-lena", "lena", "lena@example.org");

        using var browser = fixture.Browser();
        var (at, html) = await fixture.SignInThroughProviderAsync(browser);
        Assert.Equal("/", at.AbsolutePath);
        Assert.DoesNotContain("id=\"password\"", html); // the app, not the sign-in form

        var accounts = await fixture.Accounts.Admin.ListAsync();
        Assert.Equal(KaapanaRoles.Admin, accounts.Single(u => u.Id == localId).Role);
        Assert.Equal(KaapanaRoles.Researcher, accounts.Single(u => u.UserName == "lena-2").Role);
        await using var index = fixture.Index();
        Assert.False(await index.UserLogins.AnyAsync(l => l.UserId == localId)); // the local admin was not taken over
    }

    [Fact]
    public async Task A_locked_out_account_cannot_sign_in_through_the_provider()
    {
        fixture.Provider.User = ("subject-max", "max.oidc", "max@example.org");
        using (var first = fixture.Browser())
            Assert.Equal("/", (await fixture.SignInThroughProviderAsync(first)).At.AbsolutePath);

        var id = (await fixture.Accounts.Admin.ListAsync()).Single(u => u.UserName == "max.oidc").Id;
        await using (var index = fixture.Index())
        {
            var user = await index.Users.SingleAsync(u => u.Id == id);
            user.LockoutEnd = DateTimeOffset.UtcNow.AddHours(1);
            await index.SaveChangesAsync();
        }

        using var browser = fixture.Browser();
        var (at, html) = await fixture.SignInThroughProviderAsync(browser);
        Assert.Equal("/signin", at.AbsolutePath);
        Assert.Contains("failed=oidc-locked", at.Query);
        Assert.Contains("This account is locked", html);
        using (var home = await browser.GetAsync("/"))
            Assert.Equal("/signin", home.RequestMessage!.RequestUri!.AbsolutePath); // no cookie was issued

        using var admin = fixture.Server.CreateClient();
        await AuditTrailPoll.WaitAsync(admin, "action=auth.signin&actor=max.oidc&outcome=denied", items => items.Count == 1);
    }

    [Fact]
    public async Task The_return_url_survives_the_round_trip_but_only_on_this_site()
    {
        fixture.Provider.User = ("subject-tom", "tom.oidc", "tom@example.org");
        using (var browser = fixture.Browser())
            Assert.Equal("/browse", (await fixture.SignInThroughProviderAsync(browser, "/browse")).At.AbsolutePath);
        using (var browser = fixture.Browser())
        {
            var (at, _) = await fixture.SignInThroughProviderAsync(browser, "//evil.example/x");
            Assert.Equal(fixture.Server.BaseAddress.Authority, at.Authority);
            Assert.Equal("/", at.AbsolutePath);
        }
    }
}
