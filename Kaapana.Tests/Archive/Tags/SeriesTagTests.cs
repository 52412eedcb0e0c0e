using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Tags;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Archive.Tags;

/// <summary>Tags on series over a real SQLite index: add/remove, toggle (all → remove, else add), recent, autocomplete, facet and filter, delete.</summary>
public sealed class SeriesTagTests : IAsyncLifetime
{
    private ArchiveTestHost _host = null!;
    private readonly List<string> _series = [];

    private ISeriesTagService Tags => _host.Services.GetRequiredService<ISeriesTagService>();
    private BrowseQueries Browse => new(_host.Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>());

    public async Task InitializeAsync()
    {
        _host = await ArchiveTestHost.StartAsync();
        for (int i = 0; i < 5; i++)
        {
            string series = TestInstances.NewUid();
            _series.Add(series);
            var bytes = TestInstances.Create(new TestInstances.Spec("PT-" + i, "Tag^Test", TestInstances.NewUid(), series, TestInstances.NewUid(), Modality: i < 3 ? "CT" : "MR"));
            Assert.Equal(IngestStatus.Stored, (await _host.IngestAsync(bytes)).Status);
        }
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static Func<IAsyncEnumerable<IReadOnlyList<string>>> Chunks(params IReadOnlyList<string>[] chunks) => () => chunks.ToAsyncEnumerable();

    [Fact]
    public async Task Add_and_remove_are_idempotent_and_record_who()
    {
        var r = await Tags.ChangeAsync([_series[0], _series[1], "1.2.3.999"], ["  lung   nodule ", "review"], [], null, "alice");
        Assert.Equal(4, r.Added); // two series × two tags; the unknown UID is ignored
        Assert.Equal(0, (await Tags.ChangeAsync([_series[0]], ["lung nodule"], [], null, "bob")).Added);
        var of = await Tags.TagsOfAsync(_series);
        Assert.Equal(["lung nodule", "review"], of[_series[0]]);
        Assert.False(of.ContainsKey(_series[2]));
        await using (var db = _host.CreateDb())
            Assert.All(await db.SeriesTags.ToListAsync(), t => Assert.Equal("alice", t.CreatedBy));

        Assert.Equal(new TagChangeResult(0, 1), await Tags.ChangeAsync([_series[0]], [], ["review"], null, "bob"));
        Assert.Equal(["lung nodule"], (await Tags.TagsOfAsync([_series[0]]))[_series[0]]);
        await Assert.ThrowsAsync<ArgumentException>(() => Tags.ChangeAsync([_series[0]], ["   "], [], null, null));
        await Assert.ThrowsAsync<ArgumentException>(() => Tags.ChangeAsync([_series[0]], [new string('x', 65)], [], null, null));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Tags.ChangeAsync([_series[0]], ["a"], [], "no-such-project", null));
    }

    [Fact]
    public async Task Toggle_removes_when_every_series_has_the_tag_else_adds_to_those_lacking_it()
    {
        await Tags.ChangeAsync([_series[0]], ["follow-up"], [], null, null);
        // Across chunks: one of three has it → add to the two others.
        var first = await Tags.ToggleAsync(Chunks([_series[0]], [_series[1], _series[2]]), "follow-up", null, "carol");
        Assert.Equal(new TagToggleResult("follow-up", true, 2), first);
        // Now all three have it → removed from all three.
        var second = await Tags.ToggleAsync(Chunks([_series[0], _series[1]], [_series[2]]), "follow-up", null, "carol");
        Assert.Equal(new TagToggleResult("follow-up", false, 3), second);
        Assert.Empty(await Tags.TagsOfAsync([_series[0], _series[1], _series[2]]));
        // Removed everywhere, it stays recent, so key 1 can toggle it back.
        Assert.Equal("follow-up", (await Tags.RecentAsync(null))[0]);
    }

    [Fact]
    public async Task Recent_is_newest_first_and_autocomplete_orders_by_use()
    {
        await Tags.ChangeAsync([_series[0]], ["alpha"], [], null, null);
        await Tags.ChangeAsync([_series[0]], ["beta"], [], null, null);
        await Tags.ChangeAsync([_series[1]], ["alpha"], [], null, null);
        await Tags.ChangeAsync([_series[2]], ["alphabet"], [], null, null);
        Assert.Equal(["alphabet", "alpha", "beta"], await Tags.RecentAsync(null));
        var suggestions = await Tags.SuggestAsync(null, "ALP");
        Assert.Equal(["alpha", "alphabet"], suggestions.Select(s => s.Tag)); // alpha used twice
        Assert.Equal(2, suggestions[0].UseCount);
        Assert.Empty(await Tags.SuggestAsync(null, "%"));
        for (int i = 0; i < 12; i++) await Tags.ChangeAsync([_series[3]], [$"t{i}"], [], null, null);
        Assert.Equal(9, (await Tags.RecentAsync(null)).Count);
        Assert.Equal("t11", (await Tags.RecentAsync(null))[0]);
    }

    [Fact]
    public async Task Tags_are_a_facet_with_counts_and_filter_like_any_keyword()
    {
        await Tags.ChangeAsync([_series[0], _series[1], _series[3]], ["good"], [], null, null);
        await Tags.ChangeAsync([_series[1]], ["bad"], [], null, null);
        var facet = await Browse.FacetAsync(new BrowseFilter(), null, BrowseKeywords.Tags);
        Assert.Equal([new FacetCount("good", 3), new FacetCount("bad", 1)], facet);
        // AND with Modality: CT series tagged good.
        var filter = new BrowseFilter().Toggle(BrowseKeywords.Tags, "good").Toggle("Modality", "CT");
        Assert.Equal(2, await Browse.CountAsync(filter, null));
        Assert.Equal([new FacetCount("good", 2), new FacetCount("bad", 1)], await Browse.FacetAsync(new BrowseFilter().Toggle("Modality", "CT"), null, BrowseKeywords.Tags));
        // OR within Tags.
        Assert.Equal(3, await Browse.CountAsync(new BrowseFilter().Toggle(BrowseKeywords.Tags, "good").Toggle(BrowseKeywords.Tags, "bad"), null));
        Assert.Equal("f.Tags=good", new BrowseFilter().Toggle(BrowseKeywords.Tags, "good").ToQueryString());
        Assert.Equal(1, await Browse.CountAsync(BrowseFilter.Parse("f.Tags=bad"), null));
    }

    [Fact]
    public async Task Deleting_a_series_deletes_its_tags()
    {
        await Tags.ChangeAsync([_series[4]], ["doomed"], [], null, null);
        Assert.True(await _host.Maintenance.DeleteSeriesAsync(_series[4]));
        await using var db = _host.CreateDb();
        Assert.Equal(0, await db.SeriesTags.CountAsync(t => t.Tag == "doomed"));
    }
}
