using Bunit;
using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Dicom;
using Kaapana.Tests.Archive;
using Kaapana.Web.Components;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Kaapana.Tests.Web;

/// <summary>bUnit tests of the browser's components over a real SQLite index.</summary>
public sealed class ComponentTests : IAsyncLifetime
{
    private ArchiveTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await ArchiveTestHost.StartAsync();
        string study = TestInstances.NewUid();
        foreach (var (modality, body) in new[] { ("CT", "CHEST"), ("CT", "HEAD"), ("MR", "HEAD"), ("PT", "CHEST") })
        {
            var ds = TestInstances.CreateDataset(new TestInstances.Spec("P1", "Doe^John", study, TestInstances.NewUid(), TestInstances.NewUid(), Modality: modality));
            ds.Set(DicomTags.BodyPartExamined, body);
            Assert.Equal(IngestStatus.Stored, (await _host.IngestAsync(TestInstances.ToBytes(ds))).Status);
        }
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddSingleton<IBrowseQueries>(new BrowseQueries(_host.Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>()));
        ctx.Services.AddSingleton(_host.Services.GetRequiredService<Kaapana.Core.Archive.Demo.DemoDataGenerator>()); // FirstRun's "Load demo data"
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    [Fact]
    public async Task Facet_panel_shows_counts_and_checking_values_builds_or_within_and_and_across_keywords()
    {
        await using var ctx = NewContext();
        BrowseFilter? changed = null;
        var filter = new BrowseFilter();
        var cut = ctx.Render<FacetPanel>(p => p.Add(x => x.Filter, filter).Add(x => x.FilterChanged, f => changed = f));

        cut.WaitForAssertion(() => Assert.Contains("CT (2)", cut.Find("[data-testid=facet-Modality]").TextContent));
        Assert.Contains("MR (1)", cut.Find("[data-testid=facet-Modality]").TextContent);
        Assert.Contains("HEAD (2)", cut.Find("[data-testid=facet-BodyPartExamined]").TextContent);

        await cut.InvokeAsync(() => cut.Find("input[aria-label='Modality CT']").Change(true));
        Assert.NotNull(changed);
        Assert.Equal(["CT"], changed.Facets["Modality"]);

        // The parent feeds the new filter back: Body part counts narrow to CT (AND), Modality counts stay whole (for OR).
        filter = changed;
        cut.Render(p => p.Add(x => x.Filter, filter));
        cut.WaitForAssertion(() => Assert.Contains("CHEST (1)", cut.Find("[data-testid=facet-BodyPartExamined]").TextContent));
        Assert.Contains("MR (1)", cut.Find("[data-testid=facet-Modality]").TextContent);

        await cut.InvokeAsync(() => cut.Find("input[aria-label='Modality MR']").Change(true));
        Assert.Equal(["CT", "MR"], changed.Facets["Modality"]);
        filter = changed;
        cut.Render(p => p.Add(x => x.Filter, filter));
        cut.WaitForAssertion(() => Assert.Contains("HEAD (2)", cut.Find("[data-testid=facet-BodyPartExamined]").TextContent));

        await cut.InvokeAsync(() => cut.Find("input[aria-label='BodyPartExamined HEAD']").Change(true));
        Assert.Equal(["CT", "MR"], changed.Facets["Modality"]);
        Assert.Equal(["HEAD"], changed.Facets["BodyPartExamined"]);
        Assert.Equal(2, await new BrowseQueries(_host.Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>()).CountAsync(changed, null));

        // Every checkbox has a label.
        Assert.All(cut.FindAll("input[type=checkbox]"), i => Assert.False(string.IsNullOrWhiteSpace(i.GetAttribute("aria-label"))));
    }

    [Fact]
    public async Task First_run_page_gives_the_exact_storescu_line_and_the_upload_url()
    {
        await using var ctx = NewContext();
        var cut = ctx.Render<FirstRun>(p => p.Add(x => x.AETitle, "LUNG_AE").Add(x => x.Host, "10.1.2.3").Add(x => x.Port, 11999)
            .Add(x => x.BaseUrl, "http://10.1.2.3:8080"));
        Assert.Equal("storescu +sd +r -aec LUNG_AE 10.1.2.3 11999 /path/to/dicom-folder", cut.Find("[data-testid=storescu-command]").TextContent);
        Assert.Contains("http://10.1.2.3:8080/api/uploads", cut.Find("[data-testid=upload-command]").TextContent);
    }

    [Fact]
    public async Task Attribute_rows_expand_sequences_and_search_keeps_matching_rows()
    {
        await using var ctx = NewContext();
        var ds = new DicomDataset();
        ds.Set(DicomTags.PatientID, "P1");
        ds.Set(DicomTags.Modality, "CT");
        var item = new DicomDataset();
        item.Set(DicomTags.CodeValue, "T-D3000");
        ds.SetSequence(DicomTags.AnatomicRegionSequence, item);
        var nodes = SeriesDetailQueries.Nodes(ds);
        var cut = ctx.Render<AttributeRows>(p => p.Add(x => x.Nodes, nodes));
        Assert.DoesNotContain("T-D3000", cut.Markup);
        await cut.InvokeAsync(() => cut.Find("button[aria-expanded=false]").Click());
        Assert.Contains("T-D3000", cut.Markup);

        cut.Render(p => p.Add(x => x.Search, "d3000"));
        Assert.Contains("AnatomicRegionSequence", cut.Markup);
        Assert.DoesNotContain(">Modality<", cut.Markup);
    }
}
