using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Kaapana.Core.Auth;
using Kaapana.Tests.Browser;
using Microsoft.Playwright;

namespace Kaapana.Tests.Access.Matrix;

/// <summary>
/// The Blazor UI door of issue 9 in Debian's Chromium, one browser for the whole matrix (cookies cleared between users):
/// each user's project selector lists exactly their projects, /browse shows only their patients, the other project's series
/// and dataset pages read exactly like a random UID's or id's, controls follow the role, admin pages answer 403 text, and a
/// ProjectAdmin adds a member on the members page with effect. Screenshots: Kaapana.Tests/TestResults/web/ui-door-*.
/// </summary>
[Collection(AccessMatrixCollection.Name)]
public sealed class UiDoorTests(AccessMatrixFixture m)
{
    private const string Door = "ui";

    private sealed record Expect(string User, string? Project, string? Role, AccessMatrixFixture.ProjectData? Own, AccessMatrixFixture.ProjectData Hidden);

    private static int? s_alphaDataset, s_betaDataset;

    /// <summary>One dataset per project, created once by the admin over the API (new rows only: other classes see nothing change).</summary>
    private async Task<(int Alpha, int Beta)> DatasetsAsync()
    {
        if (s_alphaDataset is { } a && s_betaDataset is { } b) return (a, b);
        using var admin = m.As(TestCredentials.AdminUser);
        async Task<int> CreateAsync(string project)
        {
            using var r = await admin.PostAsJsonAsync($"/api/projects/{project}/datasets", new { name = $"ui-door-{project}-{Guid.NewGuid():N}" });
            Assert.True(r.StatusCode == HttpStatusCode.Created, $"dataset in {project}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            return (await r.Content.ReadFromJsonAsync<IdDto>())!.Id;
        }
        s_alphaDataset = await CreateAsync("alpha");
        s_betaDataset = await CreateAsync("beta");
        return (s_alphaDataset.Value, s_betaDataset.Value);
    }

    private sealed record IdDto(int Id);

    private static async Task SignInAsync(Chromium browser, Uri baseAddress, string user)
    {
        await browser.Context.ClearCookiesAsync();
        await BrowserSignIn.AsAdminAsync(browser.Page, baseAddress, user, user == TestCredentials.AdminUser ? TestCredentials.AdminPassword : AccessMatrixFixture.Password);
    }

    /// <summary>Opens a page and waits for the live circuit (the layout renders pages only once the user's projects are known).</summary>
    private async Task<IPage> OpenAsync(Chromium browser, string path)
    {
        var page = browser.Page;
        var response = await page.GotoAsync(new Uri(m.Server.BaseAddress, path).ToString());
        Assert.True(response is { Status: 200 }, $"{path}: HTTP {response?.Status}");
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
        return page;
    }

    /// <summary>The page's answer (the not-found or no-project notice) with the asked-for key replaced, for comparing two answers.</summary>
    private async Task<string> MainTextAsync(Chromium browser, string path, string key)
    {
        var page = await OpenAsync(browser, path);
        await page.Locator("[data-testid=not-found], [data-testid=no-project]").WaitForAsync(new() { Timeout = 30000 });
        return (await page.InnerTextAsync(".mud-main-content")).Replace(key, "#", StringComparison.Ordinal).Trim();
    }

    private static string RandomUid() => "1.2.826.0.1.3680043.8.498." + Random.Shared.NextInt64(1_000_000_000, 9_999_999_999);

    [Fact]
    public async Task Each_user_sees_only_their_projects_patients_and_controls_and_the_other_projects_pages_read_like_missing_ones()
    {
        var (alphaDataset, betaDataset) = await DatasetsAsync();
        Expect[] users =
        [
            new(AccessMatrixFixture.AlphaViewer, "alpha", "Viewer", m.Alpha, m.Beta),
            new(AccessMatrixFixture.AlphaResearcher, "alpha", "Researcher", m.Alpha, m.Beta),
            new(AccessMatrixFixture.AlphaProjectAdmin, "alpha", "ProjectAdmin", m.Alpha, m.Beta),
            new(AccessMatrixFixture.BetaResearcher, "beta", "Researcher", m.Beta, m.Alpha),
            new(AccessMatrixFixture.Outsider, null, null, null, m.Alpha),
        ];
        await using var browser = await Chromium.LaunchAsync("ui-door-matrix", "web", new ViewportSize { Width = 1280, Height = 800 });
        string step = "";
        try
        {
            foreach (var u in users)
            {
                step = $"{u.User}: sign in";
                await SignInAsync(browser, m.Server.BaseAddress, u.User);

                step = $"{u.User}: /browse";
                var page = await OpenAsync(browser, "/browse");
                if (u.Own is { } own)
                {
                    await Assertions.Expect(page.GetByTestId("visible-projects")).ToHaveTextAsync(u.Project!);
                    await Assertions.Expect(page.GetByTestId("project-role")).ToHaveTextAsync(u.Role!);
                    await Assertions.Expect(page.GetByTestId("series-count")).ToHaveTextAsync($"{own.SeriesUids.Count} series");
                    await Assertions.Expect(page.GetByTestId("series-row")).ToHaveCountAsync(own.SeriesUids.Count);
                    Assert.Contains(own.PatientId, await page.InnerTextAsync("body"));
                    // Controls by role: Viewer none, Researcher curates, ProjectAdmin also deletes.
                    bool curates = u.Role is "Researcher" or "ProjectAdmin", deletes = u.Role == "ProjectAdmin";
                    Assert.Equal(curates ? 1 : 0, await page.GetByTestId("create-dataset").CountAsync());
                    Assert.Equal(curates ? 1 : 0, await page.GetByTestId("add-tag").CountAsync());
                    Assert.Equal(deletes ? 1 : 0, await page.GetByTestId("delete-series").CountAsync());
                    AccessMatrixFixture.CountAllowed(Door);
                }
                else
                {
                    await Assertions.Expect(page.GetByTestId("no-project")).ToContainTextAsync("not a member of any project");
                    Assert.Equal(0, await page.GetByTestId("series-row").CountAsync());
                    AccessMatrixFixture.AssertNoLeak($"{Door} /browse", await page.ContentAsync(), m.Beta);
                }
                AccessMatrixFixture.AssertNoLeak($"{Door} /browse", await page.ContentAsync(), u.Hidden);
                await browser.ScreenshotAsync($"browse-{u.User}");

                // A ?project= naming the hidden project shows nothing of it (and does not become the current project).
                step = $"{u.User}: /browse?project={u.Hidden.Name}";
                page = await OpenAsync(browser, $"/browse?project={u.Hidden.Name}");
                await page.WaitForTimeoutAsync(300); // the count renders after the first paint; a leak would be in it by now
                if (u.Own is not null) await Assertions.Expect(page.GetByTestId("series-count")).ToHaveTextAsync("0 series");
                AccessMatrixFixture.AssertNoLeak($"{Door} /browse?project", await page.ContentAsync(), u.Hidden);

                foreach (var path in new[] { "/", "/dashboard", "/datasets", "/runs", "/triggers", "/upload" })
                {
                    step = $"{u.User}: {path}";
                    page = await OpenAsync(browser, path);
                    await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
                    AccessMatrixFixture.AssertNoLeak($"{Door} {path}", await page.ContentAsync(), u.Hidden);
                }

                // The other project's pages read exactly like missing ones (for a user of no project: both the same notice).
                step = $"{u.User}: hidden series vs random UID";
                var random = RandomUid();
                var missing = await MainTextAsync(browser, $"/series/{random}", random);
                Assert.Equal(missing, await MainTextAsync(browser, $"/series/{u.Hidden.SeriesUids[0]}", u.Hidden.SeriesUids[0]));
                AccessMatrixFixture.AssertDenied($"{Door} /series", HttpStatusCode.NotFound, await browser.Page.ContentAsync(), u.Hidden);

                step = $"{u.User}: hidden dataset vs random id";
                var hiddenDataset = (u.Hidden == m.Beta ? betaDataset : alphaDataset).ToString(CultureInfo.InvariantCulture);
                const string absent = "987654";
                missing = await MainTextAsync(browser, $"/datasets/{absent}", absent);
                Assert.Equal(missing, await MainTextAsync(browser, $"/datasets/{hiddenDataset}", hiddenDataset));
                AccessMatrixFixture.AssertDenied($"{Door} /datasets/{{id}}", HttpStatusCode.NotFound, await browser.Page.ContentAsync(), u.Hidden);

                step = $"{u.User}: members page of the hidden project vs a missing one";
                missing = await MainTextAsync(browser, "/projects/no-such-project/members", "no-such-project");
                Assert.Equal(missing, await MainTextAsync(browser, $"/projects/{u.Hidden.Name}/members", u.Hidden.Name));
                AccessMatrixFixture.AssertDenied($"{Door} /projects/{{p}}/members", HttpStatusCode.NotFound, await browser.Page.ContentAsync(), u.Hidden);

                step = $"{u.User}: admin pages";
                foreach (var path in new[] { "/admin/users", "/admin/nodes", "/admin/audit", "/admin/projects", "/admin/dicom-access" })
                {
                    var response = await browser.Page.GotoAsync(new Uri(m.Server.BaseAddress, path).ToString());
                    var body = await browser.Page.InnerTextAsync("body");
                    Assert.True(response?.Status == 403, $"{u.User} {path}: HTTP {response?.Status}");
                    Assert.Contains("not authorized", body, StringComparison.OrdinalIgnoreCase);
                    AccessMatrixFixture.AssertDenied($"{Door} {path}", (HttpStatusCode)response!.Status, body, u.Hidden);
                }
                // Receiving endpoints: a ProjectAdmin sees and manages its own project's only; everyone else gets the refusal.
                page = await OpenAsync(browser, "/admin/endpoints");
                if (u.Role == "ProjectAdmin")
                {
                    await Assertions.Expect(page.Locator("[data-testid=endpoint-row][data-ae=ALPHA_AE]")).ToHaveCountAsync(1);
                    Assert.Equal(0, await page.Locator("[data-testid=endpoint-row][data-ae=BETA_AE]").CountAsync());
                    await browser.ScreenshotAsync($"endpoints-{u.User}");
                }
                else
                {
                    await Assertions.Expect(page.GetByTestId("forbidden")).ToContainTextAsync("not authorized");
                }
                AccessMatrixFixture.AssertNoLeak($"{Door} /admin/endpoints", await page.ContentAsync(), u.Hidden, ["BETA_AE"]);
            }
        }
        catch (Exception e)
        {
            throw await browser.FailureAsync(new InvalidOperationException($"step '{step}': {e.Message}", e), m.Server.Output);
        }
    }

    [Fact]
    public async Task A_project_admin_adds_a_member_on_the_members_page_and_the_new_member_sees_the_project()
    {
        var newcomer = "ui-newcomer-" + Guid.NewGuid().ToString("N")[..8];
        var newcomerId = await m.Accounts.CreateAsync(newcomer, AccessMatrixFixture.Password, KaapanaRoles.Researcher);
        await using var browser = await Chromium.LaunchAsync("ui-door-members", "web", new ViewportSize { Width = 1280, Height = 800 });
        string step = "";
        try
        {
            step = "newcomer before";
            await SignInAsync(browser, m.Server.BaseAddress, newcomer);
            var page = await OpenAsync(browser, "/browse");
            await Assertions.Expect(page.GetByTestId("no-project")).ToBeVisibleAsync();

            step = "a Viewer may not manage members";
            await SignInAsync(browser, m.Server.BaseAddress, AccessMatrixFixture.AlphaViewer);
            page = await OpenAsync(browser, "/projects/alpha/members");
            await Assertions.Expect(page.GetByTestId("forbidden")).ToContainTextAsync("not authorized");
            Assert.Equal(0, await page.GetByTestId("member-add").CountAsync());

            step = "ProjectAdmin adds the newcomer";
            await SignInAsync(browser, m.Server.BaseAddress, AccessMatrixFixture.AlphaProjectAdmin);
            page = await OpenAsync(browser, "/browse");
            await page.GetByTestId("members-link").ClickAsync();
            await page.WaitForURLAsync(new Regex("/projects/alpha/members$"));
            await Assertions.Expect(page.Locator($"[data-testid=member-row][data-user={AccessMatrixFixture.AlphaViewer}]")).ToHaveCountAsync(1);
            await page.Locator("#member-user").FillAsync(newcomer);
            await page.GetByTestId("member-add").ClickAsync();
            await Assertions.Expect(page.GetByTestId("member-message")).ToContainTextAsync($"{newcomer} is Viewer in alpha");
            await Assertions.Expect(page.Locator($"[data-testid=member-row][data-user={newcomer}]")).ToHaveCountAsync(1);
            await browser.ScreenshotAsync("members-added");

            step = "newcomer after";
            await SignInAsync(browser, m.Server.BaseAddress, newcomer);
            page = await OpenAsync(browser, "/browse");
            await Assertions.Expect(page.GetByTestId("visible-projects")).ToHaveTextAsync("alpha");
            await Assertions.Expect(page.GetByTestId("project-role")).ToHaveTextAsync("Viewer");
            await Assertions.Expect(page.GetByTestId("series-row")).ToHaveCountAsync(m.Alpha.SeriesUids.Count);
            Assert.Equal(0, await page.GetByTestId("create-dataset").CountAsync());
            AccessMatrixFixture.AssertNoLeak($"{Door} /browse new member", await page.ContentAsync(), m.Beta);
            AccessMatrixFixture.CountAllowed(Door);
        }
        catch (Exception e)
        {
            throw await browser.FailureAsync(new InvalidOperationException($"step '{step}': {e.Message}", e), m.Server.Output);
        }
        finally
        {
            // Leave alpha's member list as the fixture made it.
            using var admin = m.As(TestCredentials.AdminUser);
            using var r = await admin.DeleteAsync($"/api/projects/alpha/members/{newcomerId}");
        }
    }
}
