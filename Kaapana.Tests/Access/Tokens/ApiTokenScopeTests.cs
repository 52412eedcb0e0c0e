using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kaapana.Core.Auth;
using Kaapana.Tests.Auth;

namespace Kaapana.Tests.Access.Tokens;

/// <summary>
/// Wrong-scope cases: a token narrows its owner's rights to its projects and to read (never widens them), on the doors
/// scoped by <c>AccessScope</c> (<c>/api/projects</c>, project members, site administration); a project it does not cover
/// looks exactly like a missing one; a token may name only projects its owner can read.
/// </summary>
public sealed class ApiTokenScopeTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    private const string Password = "Scope-user-pw-1";

    private HttpClient Admin() => fixture.As(TestCredentials.AdminUser, TestCredentials.AdminPassword);

    private async Task<(int A, int B)> ProjectsAsync(string a, string b)
    {
        using var admin = Admin();
        foreach (var name in new[] { a, b })
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/projects", new { name })).StatusCode);
        var all = await admin.GetFromJsonAsync<JsonElement>("/api/projects");
        int Id(string n) => all.EnumerateArray().Single(p => p.GetProperty("name").GetString() == n).GetProperty("id").GetInt32();
        return (Id(a), Id(b));
    }

    private static async Task<string[]> ProjectNamesAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/api/projects");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return json.EnumerateArray().Select(p => p.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToArray();
    }

    private async Task AddMemberAsync(string project, string user, string role = "Researcher")
    {
        using var admin = Admin();
        using var response = await admin.PutAsJsonAsync($"/api/projects/{project}/members", new { userName = user, role });
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"PUT members: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task A_project_limited_admin_token_sees_only_its_projects_and_cannot_administer_the_site()
    {
        var (a, _) = await ProjectsAsync("sc-adm-a", "sc-adm-b");
        using var admin = Admin();
        var limited = await ApiTokenClient.CreateAsync(admin, "only a", access: "write", projectIds: [a]);
        var full = await ApiTokenClient.CreateAsync(admin, "everything", access: "write");
        using var limitedBearer = ApiTokenClient.Bearer(fixture, limited.Text);
        using var fullBearer = ApiTokenClient.Bearer(fixture, full.Text);

        var allNames = await ProjectNamesAsync(fullBearer);
        Assert.Contains("sc-adm-a", allNames);
        Assert.Contains("sc-adm-b", allNames);
        Assert.Equal(["sc-adm-a"], await ProjectNamesAsync(limitedBearer));

        // Outside the token's projects: exactly what a project that does not exist gets.
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(limitedBearer, "/api/projects/sc-adm-a/members"));
        using (var other = await limitedBearer.GetAsync("/api/projects/sc-adm-b/members"))
        using (var missing = await limitedBearer.GetAsync("/api/projects/sc-adm-nonexistent/members"))
        {
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
            Assert.Equal(missing.StatusCode, other.StatusCode);
            Assert.Equal(await missing.Content.ReadAsStringAsync(), await other.Content.ReadAsStringAsync());
        }

        // Site administration needs the admin unnarrowed.
        Assert.Equal(HttpStatusCode.Forbidden, (await limitedBearer.PostAsJsonAsync("/api/projects", new { name = "sc-adm-c" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, await fixture.StatusAsync(limitedBearer, "/api/admin/tokens"));
        Assert.Equal(HttpStatusCode.Forbidden, (await limitedBearer.DeleteAsync($"/api/admin/tokens/{full.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(fullBearer, "/api/admin/tokens"));
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(fullBearer, "/api/projects"));

        // Endpoints guarded by the Admin role policy alone (the audit trail) follow the same rule.
        var readAll = await ApiTokenClient.CreateAsync(admin, "read everything", access: "read");
        using var readAllBearer = ApiTokenClient.Bearer(fixture, readAll.Text);
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(fullBearer, "/api/audit?limit=1"));
        Assert.Equal(HttpStatusCode.Forbidden, await fixture.StatusAsync(limitedBearer, "/api/audit?limit=1"));
        Assert.Equal(HttpStatusCode.Forbidden, await fixture.StatusAsync(readAllBearer, "/api/audit?limit=1"));
        Assert.Equal(HttpStatusCode.OK, await fixture.StatusAsync(admin, "/api/audit?limit=1"));
        Assert.Equal(["sc-adm-a", "sc-adm-b"], (await ProjectNamesAsync(readAllBearer)).Where(n => n.StartsWith("sc-adm-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_token_narrows_a_members_rights_and_loses_a_project_when_its_owner_does()
    {
        var (a, _) = await ProjectsAsync("sc-mem-a", "sc-mem-b");
        await ProjectsAsync("sc-mem-c", "sc-mem-d"); // the member is in neither
        await fixture.Accounts.CreateAsync("sc-member", Password, KaapanaRoles.Researcher);
        await AddMemberAsync("sc-mem-a", "sc-member", "ProjectAdmin");
        await AddMemberAsync("sc-mem-b", "sc-member", "Researcher");
        using var basic = fixture.As("sc-member", Password);
        var onlyA = await ApiTokenClient.CreateAsync(basic, "a only", access: "write", projectIds: [a]);
        var all = await ApiTokenClient.CreateAsync(basic, "all mine", access: "write");
        var readA = await ApiTokenClient.CreateAsync(basic, "read a", access: "read", projectIds: [a]);
        using var onlyABearer = ApiTokenClient.Bearer(fixture, onlyA.Text);
        using var allBearer = ApiTokenClient.Bearer(fixture, all.Text);
        using var readABearer = ApiTokenClient.Bearer(fixture, readA.Text);

        Assert.Equal(["sc-mem-a", "sc-mem-b"], await ProjectNamesAsync(basic));
        Assert.Equal(["sc-mem-a", "sc-mem-b"], await ProjectNamesAsync(allBearer));
        Assert.Equal(["sc-mem-a"], await ProjectNamesAsync(onlyABearer));
        Assert.Equal(["sc-mem-a"], await ProjectNamesAsync(readABearer));
        // Never wider than the owner: "all" means all of the owner's projects, not every project (sc-mem-c, sc-mem-d).

        // Managing members of A: the owner is its ProjectAdmin; a read token may not, a token for A may not touch B.
        var change = new { userName = TestCredentials.AdminUser, role = "Viewer" };
        Assert.Equal(HttpStatusCode.Forbidden, (await readABearer.PutAsJsonAsync("/api/projects/sc-mem-a/members", change)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await onlyABearer.PutAsJsonAsync("/api/projects/sc-mem-b/members", change)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await fixture.StatusAsync(onlyABearer, "/api/projects/sc-mem-b/members"));

        // The owner leaves A: every token of theirs loses it at once (a token never keeps what its owner lost).
        using (var admin = Admin())
        {
            var ownerId = (await fixture.Accounts.Admin.ListAsync()).Single(u => u.UserName == "sc-member").Id;
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/projects/sc-mem-a/members/{ownerId}")).StatusCode);
        }
        Assert.Empty(await ProjectNamesAsync(onlyABearer));
        Assert.Equal(["sc-mem-b"], await ProjectNamesAsync(allBearer));
    }

    [Fact]
    public async Task A_token_may_name_only_projects_its_owner_can_read_and_the_refusal_reveals_nothing()
    {
        var (a, b) = await ProjectsAsync("sc-own-a", "sc-own-b");
        await fixture.Accounts.CreateAsync("sc-owner", Password, KaapanaRoles.Researcher);
        await AddMemberAsync("sc-own-a", "sc-owner", "Viewer");
        using var basic = fixture.As("sc-owner", Password);

        await ApiTokenClient.CreateAsync(basic, "mine", access: "read", projectIds: [a]);
        const int missing = 987_654;
        using var notMine = await basic.PostAsJsonAsync("/api/tokens", new { name = "b", expiresInDays = 5, access = "read", projectIds = new[] { b } });
        using var nowhere = await basic.PostAsJsonAsync("/api/tokens", new { name = "b", expiresInDays = 5, access = "read", projectIds = new[] { missing } });
        Assert.Equal(HttpStatusCode.BadRequest, notMine.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, nowhere.StatusCode);
        var notMineTitle = JsonDocument.Parse(await notMine.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString()!;
        var nowhereTitle = JsonDocument.Parse(await nowhere.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString()!;
        Assert.Equal(nowhereTitle.Replace(missing.ToString(System.Globalization.CultureInfo.InvariantCulture), "#"),
            notMineTitle.Replace(b.ToString(System.Globalization.CultureInfo.InvariantCulture), "#"));
        using var mixed = await basic.PostAsJsonAsync("/api/tokens", new { name = "ab", expiresInDays = 5, access = "read", projectIds = new[] { a, b } });
        Assert.Equal(HttpStatusCode.BadRequest, mixed.StatusCode);
        Assert.Single((await basic.GetFromJsonAsync<JsonElement>("/api/tokens")).EnumerateArray());
    }
}
