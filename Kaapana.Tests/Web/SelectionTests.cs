using Bunit;
using Kaapana.Core;
using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Maintenance;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Archive.Tags;
using Kaapana.Tests.Archive;
using Kaapana.Web.Pages;
using Kaapana.Web.State;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace Kaapana.Tests.Web;

/// <summary>
/// Selection and tag shortcuts: the plain <see cref="SeriesSelection"/> class, and /browse rendered by bUnit over a real SQLite
/// index (cards view): click, shift-click ranges in both directions, select all matching, clear, tags with the number keys.
/// </summary>
public sealed class SelectionTests : IAsyncLifetime
{
    private ArchiveTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await ArchiveTestHost.StartAsync();
        // Six series, one per study, on distinct dates: the default sort (study date, newest first) gives a known order.
        for (int i = 0; i < 6; i++)
        {
            var bytes = TestInstances.Create(new TestInstances.Spec($"SEL-{i}", "Select^Me", TestInstances.NewUid(), TestInstances.NewUid(), TestInstances.NewUid(),
                Modality: i % 2 == 0 ? "CT" : "MR", StudyDate: $"202001{10 + i}", SeriesDescription: $"S{i}", Size: 16));
            Assert.Equal(IngestStatus.Stored, (await _host.IngestAsync(bytes)).Status);
        }
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private BrowseQueries Queries => new(_host.Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>());

    private static Task<IReadOnlyList<string>> Range(IReadOnlyList<string> rows, int first, int count) =>
        Task.FromResult<IReadOnlyList<string>>(rows.Skip(first).Take(count).ToList());

    [Fact]
    public async Task Click_toggles_and_shift_click_selects_the_range_in_both_directions()
    {
        string[] rows = ["a", "b", "c", "d", "e", "f", "g"];
        var s = new SeriesSelection();
        int changes = 0;
        s.Changed += () => changes++;
        await s.ClickAsync(1, "b", false, (f, c) => Range(rows, f, c));
        Assert.Equal(["b"], s.Uids);
        await s.ClickAsync(4, "e", true, (f, c) => Range(rows, f, c)); // downwards: b..e
        Assert.Equal(["b", "c", "d", "e"], s.Uids.Order());
        await s.ClickAsync(6, "g", false, (f, c) => Range(rows, f, c));
        await s.ClickAsync(5, "f", true, (f, c) => Range(rows, f, c)); // upwards from g: f..g
        Assert.Equal(["b", "c", "d", "e", "f", "g"], s.Uids.Order());
        await s.ClickAsync(2, "c", false, (f, c) => Range(rows, f, c)); // plain click toggles off
        Assert.False(s.IsSelected("c"));
        await s.ClickAsync(0, "a", true, (f, c) => Range(rows, f, c)); // upwards from c: a..c, all selected
        Assert.Equal(["a", "b", "c", "d", "e", "f", "g"], s.Uids.Order());
        Assert.Equal(7, s.Count);
        Assert.Equal(6, changes);
        s.Clear();
        Assert.True(s.IsEmpty);
        Assert.Null(s.Anchor);
    }

    [Fact]
    public async Task Select_all_matching_keeps_the_filter_resolves_in_chunks_and_honours_exclusions()
    {
        var ct = new BrowseFilter().Toggle("Modality", "CT");
        int total = await Queries.CountAsync(ct, null);
        Assert.Equal(3, total);
        var s = new SeriesSelection();
        s.SelectAllMatching(ct, total);
        Assert.Equal(3, s.Count);
        Assert.Empty(s.Uids); // the filter, not its UIDs
        var all = new List<string>();
        await foreach (var chunk in s.ResolveAsync(Queries, null, chunkSize: 2))
        {
            Assert.InRange(chunk.Count, 1, 2);
            all.AddRange(chunk);
        }
        Assert.Equal(3, all.Distinct().Count());
        Assert.Equal((await Queries.PageAsync(ct, null, 0, 10)).Select(r => r.SeriesInstanceUID).Order(), all.Order());

        // A click on a row of an all-matching selection excludes it; the resolved set follows.
        await s.ClickAsync(0, all[0], false, (f, c) => Queries.SeriesUidsAsync(ct, null, f, c));
        Assert.Equal(2, s.Count);
        Assert.False(s.IsSelected(all[0]));
        var rest = new List<string>();
        await foreach (var chunk in s.ResolveAsync(Queries, null, 1)) rest.AddRange(chunk);
        Assert.Equal(all.Skip(1).Order(), rest.Order());

        // Another filter drops an all-matching selection (it described the old one); an explicit one survives.
        s.FilterChanged(new BrowseFilter());
        Assert.True(s.IsEmpty);
        await s.ClickAsync(0, "x", false, (f, c) => Range(["x"], f, c));
        s.FilterChanged(ct);
        Assert.Equal(["x"], s.Uids);
    }

    [Fact]
    public void Number_keys_map_to_the_recent_tags()
    {
        IReadOnlyList<string> recent = ["newest", "older", "oldest"];
        Assert.Equal("newest", TagShortcuts.TagFor("1", recent));
        Assert.Equal("oldest", TagShortcuts.TagFor("3", recent));
        Assert.Null(TagShortcuts.TagFor("4", recent));
        Assert.Null(TagShortcuts.TagFor("0", recent));
        Assert.Null(TagShortcuts.TagFor("a", recent));
        Assert.Null(TagShortcuts.TagFor("12", recent));
        var ten = Enumerable.Range(1, 10).Select(i => $"t{i}").ToList();
        Assert.Equal("t9", TagShortcuts.TagFor("9", ten));
        Assert.Equal([("1", "newest"), ("2", "older"), ("3", "oldest")], TagShortcuts.Legend(recent));
        Assert.Equal(9, TagShortcuts.Legend(ten).Count());
    }

    private BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        var sp = _host.Services;
        ctx.Services.AddSingleton<IBrowseQueries>(Queries);
        ctx.Services.AddSingleton(sp.GetRequiredService<IArchiveEvents>());
        ctx.Services.AddSingleton(sp.GetRequiredService<ISeriesTagService>());
        ctx.Services.AddSingleton(sp.GetRequiredService<IProjectCatalog>());
        ctx.Services.AddSingleton(sp.GetRequiredService<IArchiveQueries>());
        ctx.Services.AddSingleton(sp.GetRequiredService<IDatasetQueries>());
        ctx.Services.AddSingleton(sp.GetRequiredService<IArchiveMaintenance>());
        ctx.Services.AddSingleton(sp.GetRequiredService<IOptions<KaapanaOptions>>());
        ctx.Services.AddCaller(sp);
        ctx.AddAuthorization().SetAuthorized("tester");
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    [Fact]
    public async Task Browse_cards_select_by_click_and_shift_click_tag_with_number_keys_and_filter_by_tag()
    {
        await using var ctx = NewContext();
        ctx.Services.GetRequiredService<NavigationManager>().NavigateTo("browse?view=cards");
        var cut = ctx.Render<Browse>();
        cut.WaitForAssertion(() => Assert.Equal(6, cut.FindAll("[data-testid=series-card]").Count));
        var order = (await Queries.PageAsync(new BrowseFilter { Project = "default" }, null, 0, 10)).Select(r => r.SeriesInstanceUID).ToList();
        string Count() => cut.Find("[data-testid=selection-count]").TextContent.Trim();

        await cut.InvokeAsync(() => cut.FindAll("[data-testid=series-card]")[1].Click());
        cut.WaitForAssertion(() => Assert.Equal("1 selected", Count()));
        await cut.InvokeAsync(() => cut.FindAll("[data-testid=series-card]")[3].Click(new MouseEventArgs { ShiftKey = true }));
        cut.WaitForAssertion(() => Assert.Equal("3 selected", Count()));
        Assert.Equal(order.Skip(1).Take(3).Order(), cut.Instance.Selection.Uids.Order());
        // Upwards from the last click (row 3) to row 0 adds row 0; rows 1–3 stay.
        await cut.InvokeAsync(() => cut.FindAll("[data-testid=series-card]")[0].Click(new MouseEventArgs { ShiftKey = true }));
        cut.WaitForAssertion(() => Assert.Equal("4 selected", Count()));
        Assert.Equal(4, cut.FindAll(".k-selected").Count);

        // The tag input makes "reviewed" recent (key 1) and tags the four.
        var tags = _host.Services.GetRequiredService<ISeriesTagService>();
        await tags.ChangeAsync([order[5]], ["older-tag"], [], null, null);
        await cut.InvokeAsync(() => cut.Instance.ToggleTagAsync("reviewed"));
        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("[data-testid=tag-chip]").Count(c => c.TextContent.Contains("reviewed"))));
        cut.WaitForAssertion(() => Assert.Contains("1 reviewed", cut.Find("[data-testid=tag-legend]").TextContent.Replace("\n", " ").Replace("  ", " ")));

        // Key 1: all four have it → removed; again → added back. Key 2 names the older tag.
        await cut.InvokeAsync(() => cut.Instance.OnTagKey("1"));
        cut.WaitForAssertion(() => Assert.DoesNotContain(cut.FindAll("[data-testid=tag-chip]"), c => c.TextContent.Contains("reviewed")));
        await cut.InvokeAsync(() => cut.Instance.OnTagKey("1"));
        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("[data-testid=tag-chip]").Count(c => c.TextContent.Contains("reviewed"))));
        await cut.InvokeAsync(() => cut.Instance.OnTagKey("2"));
        cut.WaitForAssertion(() => Assert.Equal(5, cut.FindAll("[data-testid=tag-chip]").Count(c => c.TextContent.Contains("older-tag"))));
        Assert.Equal(4, (await tags.TagsOfAsync(order)).Count(kv => kv.Value.Contains("reviewed")));

        // Tags facet in the filter panel, with counts.
        cut.WaitForAssertion(() => Assert.Contains("reviewed (4)", cut.Find("[data-testid=facet-Tags]").TextContent));

        await cut.InvokeAsync(() => cut.Find("[data-testid=clear-selection]").Click());
        cut.WaitForAssertion(() => Assert.Equal("0 selected", Count()));
        await cut.InvokeAsync(() => cut.Find("[data-testid=select-all]").Click());
        // Select-all-matching counts the matches with a query: the toolbar updates when it returns.
        cut.WaitForAssertion(() => Assert.Equal("6 selected", Count()));
        cut.WaitForAssertion(() => Assert.Equal(6, cut.FindAll(".k-selected").Count));
    }
}
