using Bunit;
using Kaapana.Core.Access;
using Kaapana.Tests.Archive;
using Kaapana.Web.Layout;
using Kaapana.Web.State;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Kaapana.Tests.Web;

/// <summary>
/// The project selector and <see cref="CurrentProject"/> under a member's scope, on a real index with two projects: only the
/// readable project is listed (with the user's role), and no other project can become current, whatever names it.
/// </summary>
public sealed class ProjectSelectorTests : IAsyncLifetime
{
    private ArchiveTestHost _host = null!;
    private int _default, _other;

    public async Task InitializeAsync()
    {
        _host = await ArchiveTestHost.StartAsync();
        _default = (await _host.Projects.FindProjectAsync("default"))!.Id;
        _other = (await _host.Projects.CreateProjectAsync("other")).Id;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private BunitContext NewContext(AccessScope scope)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddCaller(_host.Services, scope);
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    private static AccessScope Member(int project, ProjectRole role) =>
        new("u1", "member", false, new Dictionary<int, ProjectRole> { [project] = role });

    [Fact]
    public async Task A_viewer_sees_only_their_project_and_role_and_cannot_switch_to_another()
    {
        await using var ctx = NewContext(Member(_other, ProjectRole.Viewer));
        var cut = ctx.Render<ProjectSelector>();
        cut.WaitForAssertion(() => Assert.Equal("other", cut.Find("[data-testid=visible-projects]").TextContent));
        Assert.Equal("Viewer", cut.Find("[data-testid=project-role]").TextContent.Trim());
        Assert.Empty(cut.FindAll("[data-testid=members-link]"));

        var current = ctx.Services.GetRequiredService<CurrentProject>();
        Assert.Equal("other", current.Name);
        // "default" exists but is not readable: a stale value or a ?project= cannot make it current.
        Assert.False(current.Set("default"));
        Assert.False(current.Set("no-such-project"));
        Assert.Equal("other", current.Name);
        Assert.Equal(new[] { _other }, current.ReadableIds!);
        Assert.False(current.Can(ProjectPermission.Curate));
    }

    [Fact]
    public async Task A_project_admin_gets_the_members_link_and_a_user_of_no_project_gets_none_and_the_notice_flag()
    {
        await using (var ctx = NewContext(Member(_default, ProjectRole.ProjectAdmin)))
        {
            var cut = ctx.Render<ProjectSelector>();
            cut.WaitForAssertion(() => Assert.Equal("default", cut.Find("[data-testid=visible-projects]").TextContent));
            Assert.Equal("projects/default/members", cut.Find("[data-testid=members-link]").GetAttribute("href"));
        }
        await using (var ctx = NewContext(new AccessScope("u2", "nobody", false, new Dictionary<int, ProjectRole>())))
        {
            var cut = ctx.Render<ProjectSelector>();
            cut.WaitForAssertion(() => Assert.Equal("No project", cut.Find("[data-testid=project-role]").TextContent.Trim()));
            var current = ctx.Services.GetRequiredService<CurrentProject>();
            Assert.True(current.HasNoProject);
            Assert.Null(current.Name);
            Assert.False(current.Set("default"));
            Assert.Empty(current.ReadableIds!);
        }
    }
}
