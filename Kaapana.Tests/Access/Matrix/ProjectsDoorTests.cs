using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static Kaapana.Tests.Access.Matrix.AccessMatrixFixture;

namespace Kaapana.Tests.Access.Matrix;

/// <summary>The project list and membership door: who sees which project, who manages members.</summary>
[Collection(AccessMatrixCollection.Name)]
public sealed class ProjectsDoorTests(AccessMatrixFixture m)
{
    [Theory]
    [InlineData(AlphaViewer, "alpha")]
    [InlineData(AlphaResearcher, "alpha")]
    [InlineData(AlphaProjectAdmin, "alpha")]
    [InlineData(BetaResearcher, "beta")]
    [InlineData(Outsider, "")]
    public async Task Project_list_shows_only_the_callers_projects(string user, string visible)
    {
        using var http = m.As(user);
        using var r = await http.GetAsync("/api/projects");
        var body = await r.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var names = JsonDocument.Parse(body).RootElement.EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Equal(visible.Length == 0 ? [] : [visible], names);
        CountAllowed("api/projects");
        if (visible != "beta") AssertNoLeak("api/projects", body, m.Beta, ["\"beta\""]);
        if (visible != "alpha") AssertNoLeak("api/projects", body, m.Alpha, ["\"alpha\""]);
    }

    [Fact]
    public async Task Admin_sees_every_project()
    {
        using var http = m.As(TestCredentials.AdminUser);
        var names = (await http.GetFromJsonAsync<JsonElement>("/api/projects")).EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Contains("alpha", names);
        Assert.Contains("beta", names);
        CountAllowed("api/projects");
    }

    [Theory]
    [InlineData(AlphaViewer)]
    [InlineData(AlphaResearcher)]
    [InlineData(BetaResearcher)]
    [InlineData(Outsider)]
    public async Task Only_site_admins_create_projects(string user)
    {
        using var http = m.As(user);
        using var r = await http.PostAsJsonAsync("/api/projects", new { name = "made-by-" + user });
        AssertDenied("api/projects", r.StatusCode, await r.Content.ReadAsStringAsync(), m.Beta, allowed: HttpStatusCode.Forbidden);
        using var admin = m.As(TestCredentials.AdminUser);
        var names = (await admin.GetFromJsonAsync<JsonElement>("/api/projects")).EnumerateArray().Select(p => p.GetProperty("name").GetString());
        Assert.DoesNotContain("made-by-" + user, names);
    }

    [Fact]
    public async Task Members_of_a_project_are_listed_to_its_members_and_hidden_from_others()
    {
        using (var viewer = m.As(AlphaViewer))
        {
            var members = await viewer.GetFromJsonAsync<JsonElement>("/api/projects/alpha/members");
            var rows = members.EnumerateArray().Select(e => (e.GetProperty("userName").GetString(), e.GetProperty("role").GetString())).ToList();
            Assert.Contains((AlphaViewer, "Viewer"), rows);
            Assert.Contains((AlphaProjectAdmin, "ProjectAdmin"), rows);
            Assert.DoesNotContain(rows, r => r.Item1 == BetaResearcher);
            CountAllowed("api/projects/members");
        }
        // The beta project answers an alpha member exactly as a project that does not exist.
        using var outsider = m.As(AlphaResearcher);
        using var hidden = await outsider.GetAsync("/api/projects/beta/members");
        using var missing = await outsider.GetAsync("/api/projects/no-such-project/members");
        Assert.Equal(missing.StatusCode, hidden.StatusCode);
        AssertDenied("api/projects/members", hidden.StatusCode, await hidden.Content.ReadAsStringAsync(), m.Beta, [BetaResearcher]);
    }

    [Theory]
    [InlineData(AlphaViewer, HttpStatusCode.Forbidden)]
    [InlineData(AlphaResearcher, HttpStatusCode.Forbidden)]
    [InlineData(BetaResearcher, HttpStatusCode.NotFound)]
    [InlineData(Outsider, HttpStatusCode.NotFound)]
    public async Task Only_project_admins_and_site_admins_change_members(string user, HttpStatusCode expected)
    {
        using var http = m.As(user);
        using var r = await http.PutAsJsonAsync("/api/projects/alpha/members", new { userName = Outsider, role = "ProjectAdmin" });
        AssertDenied("api/projects/members", r.StatusCode, await r.Content.ReadAsStringAsync(), m.Beta, allowed: expected);
        using var admin = m.As(TestCredentials.AdminUser);
        var rows = await admin.GetFromJsonAsync<JsonElement>("/api/projects/alpha/members");
        Assert.DoesNotContain(rows.EnumerateArray(), e => e.GetProperty("userName").GetString() == Outsider);
    }

    [Fact]
    public async Task A_project_admin_adds_and_removes_a_member_and_it_takes_effect_at_once_and_is_audited()
    {
        using var padmin = m.As(AlphaProjectAdmin);
        using (var r = await padmin.PutAsJsonAsync("/api/projects/alpha/members", new { userName = BetaResearcher, role = "Viewer" }))
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var beta = m.As(BetaResearcher))
        {
            var names = (await beta.GetFromJsonAsync<JsonElement>("/api/projects")).EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
            Assert.Equal(["alpha", "beta"], names.Order());
        }
        using (var r = await padmin.DeleteAsync($"/api/projects/alpha/members/{m.UserIds[BetaResearcher]}"))
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var beta = m.As(BetaResearcher))
        {
            var names = (await beta.GetFromJsonAsync<JsonElement>("/api/projects")).EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
            Assert.Equal(["beta"], names);
        }
        CountAllowed("api/projects/members");
        using var admin = m.Server.CreateClient();
        var (items, _) = await AuditTrailPoll.WaitAsync(admin, "target=user:" + BetaResearcher, list =>
            list.Any(e => e.GetProperty("action").GetString() == "project.member.added" && e.GetProperty("target").GetString()!.Contains(BetaResearcher))
            && list.Any(e => e.GetProperty("action").GetString() == "project.member.removed" && e.GetProperty("target").GetString()!.Contains(BetaResearcher)),
            () => m.Server.Output);
        Assert.All(items.Where(e => e.GetProperty("target").GetString() == "project:alpha user:" + BetaResearcher),
            e => Assert.Equal(AlphaProjectAdmin, e.GetProperty("actor").GetString()));
    }
}
