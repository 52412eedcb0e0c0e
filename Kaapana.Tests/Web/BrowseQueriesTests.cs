using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Retrieve;
using Kaapana.Core.Archive.Storage;
using Kaapana.Dicom;
using Kaapana.Tests.Archive;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Web;

/// <summary>
/// Browse queries on a real SQLite index filled by the real ingest pipeline. Expected numbers come from an independent count:
/// the generated specs, filtered with LINQ to objects.
/// </summary>
public sealed class BrowseQueriesTests : IAsyncLifetime
{
    private ArchiveTestHost _host = null!;
    private readonly List<(TestInstances.Spec Spec, string Protocol, string Manufacturer)> _series = [];

    public async Task InitializeAsync()
    {
        _host = await ArchiveTestHost.StartAsync();
        var rng = new Random(7);
        string[] modalities = ["CT", "MR", "CT", "PT"];
        string[] protocols = ["Thorax", "Head", "Abdomen"];
        for (int p = 0; p < 6; p++)
        {
            string patient = $"PAT{p}";
            for (int st = 0; st < 2; st++)
            {
                string study = TestInstances.NewUid();
                string date = $"{2018 + rng.Next(0, 5)}{rng.Next(1, 13):00}15";
                for (int se = 0; se < 3; se++)
                {
                    var spec = new TestInstances.Spec(patient, $"Doe^{p}", study, TestInstances.NewUid(), TestInstances.NewUid(),
                        Modality: modalities[rng.Next(modalities.Length)], SeriesNumber: se + 1, StudyDate: date, Extra: protocols[rng.Next(protocols.Length)]);
                    string manufacturer = rng.Next(2) == 0 ? "Acme" : "Bmed";
                    var ds = TestInstances.CreateDataset(spec);
                    ds.Set(DicomTags.Manufacturer, manufacturer);
                    var result = await _host.IngestAsync(TestInstances.ToBytes(ds));
                    Assert.Equal(IngestStatus.Stored, result.Status);
                    _series.Add((spec, spec.Extra!, manufacturer));
                }
            }
        }
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private BrowseQueries Queries => new(_host.Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>());

    private IEnumerable<(TestInstances.Spec Spec, string Protocol, string Manufacturer)> Matching(
        string[]? modalities = null, string[]? protocols = null, string? from = null, string? to = null) =>
        _series.Where(s => (modalities is null || modalities.Contains(s.Spec.Modality))
            && (protocols is null || protocols.Contains(s.Protocol))
            && (from is null || string.CompareOrdinal(s.Spec.StudyDate, from) >= 0)
            && (to is null || string.CompareOrdinal(s.Spec.StudyDate, to) <= 0));

    [Fact]
    public async Task Count_and_page_follow_and_across_keywords_or_within_one_and_the_date_range()
    {
        var filter = new BrowseFilter { Project = "default", StudyDateFrom = "20190101", StudyDateTo = "20211231" }
            .Toggle("Modality", "CT").Toggle("Modality", "MR").Toggle("ProtocolName", "Thorax");
        var expected = Matching(["CT", "MR"], ["Thorax"], "20190101", "20211231").Select(s => s.Spec.SeriesUid).ToHashSet();
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, await Queries.CountAsync(filter, null));
        var page = await Queries.PageAsync(filter, null, 0, 100);
        Assert.Equal(expected, page.Select(r => r.SeriesInstanceUID).ToHashSet());
        Assert.Equal(page.Select(r => r.StudyDate).OrderByDescending(d => d, StringComparer.Ordinal), page.Select(r => r.StudyDate));

        // Paging returns disjoint windows that add up to the whole.
        var first = await Queries.PageAsync(filter, null, 0, 2);
        var rest = await Queries.PageAsync(filter, null, 2, 100);
        Assert.Equal(expected, first.Concat(rest).Select(r => r.SeriesInstanceUID).ToHashSet());
        Assert.Equal(expected.Count, first.Count + rest.Count);
    }

    [Fact]
    public async Task Facet_counts_equal_an_independent_count_and_ignore_the_keywords_own_selection()
    {
        var filter = new BrowseFilter { Project = "default" }.Toggle("Modality", "CT").Toggle("ProtocolName", "Head").Toggle("ProtocolName", "Thorax");

        // Modality counts: under the protocol filter only (the Modality selection itself does not narrow its own facet).
        var modality = await Queries.FacetAsync(filter, null, "Modality");
        var expectedModality = Matching(protocols: ["Head", "Thorax"]).GroupBy(s => s.Spec.Modality).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expectedModality, modality.ToDictionary(f => f.Value, f => f.Count));

        // ProtocolName (an attribute row, not a column) under Modality = CT.
        var protocol = await Queries.FacetAsync(filter, null, "ProtocolName");
        var expectedProtocol = Matching(["CT"]).GroupBy(s => s.Protocol).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expectedProtocol, protocol.ToDictionary(f => f.Value, f => f.Count));

        // Manufacturer is a column; both filters apply.
        var manufacturer = await Queries.FacetAsync(filter, null, "Manufacturer");
        var expectedManufacturer = Matching(["CT"], ["Head", "Thorax"]).GroupBy(s => s.Manufacturer).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expectedManufacturer, manufacturer.ToDictionary(f => f.Value, f => f.Count));
        Assert.Equal(manufacturer.OrderByDescending(f => f.Count).ThenBy(f => f.Value, StringComparer.Ordinal), manufacturer);

        // Autocomplete narrows the values.
        var narrowed = await Queries.FacetAsync(new BrowseFilter(), null, "ProtocolName", contains: "ora");
        Assert.Equal(["Thorax"], narrowed.Select(f => f.Value));
    }

    [Fact]
    public async Task Unknown_project_keyword_and_text_search()
    {
        Assert.Equal(0, await Queries.CountAsync(new BrowseFilter { Project = "nope" }, null));
        await Assert.ThrowsAsync<UnknownKeywordException>(() => Queries.CountAsync(new BrowseFilter().Toggle("NotAKeyword", "x"), null));
        Assert.Equal(_series.Count(s => s.Spec.PatientID == "PAT3"), await Queries.CountAsync(new BrowseFilter { Text = "Doe^3" }, null));
        var one = _series[5].Spec;
        Assert.Equal(1, await Queries.CountAsync(new BrowseFilter { Text = one.SeriesUid }, null));
    }

    [Fact]
    public async Task Dashboard_totals_and_series_detail_come_from_the_index_and_the_file()
    {
        var factory = _host.Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>();
        var dashboard = new DashboardQueries(factory, Queries);
        var data = await dashboard.DashboardAsync("default", null);
        Assert.Equal(new ArchiveTotals(6, 12, _series.Count, _series.Count, data.Totals.StorageBytes), data.Totals);
        Assert.True(data.Totals.StorageBytes > 0);
        Assert.Equal(_series.GroupBy(s => s.Spec.Modality).ToDictionary(g => g.Key, g => g.Count()), data.Modalities.ToDictionary(b => b.Label, b => b.Count));
        Assert.Equal(_series.Count, data.ArrivalDays.Sum(b => b.Count));
        Assert.Equal(_series.GroupBy(s => s.Spec.StudyDate[..4]).OrderBy(g => g.Key).Select(g => (g.Key, g.Count())),
            data.StudyYears.Select(b => (b.Label, b.Count)));

        var detailQueries = new SeriesDetailQueries(factory, new InstanceRetrieval(factory, _host.Storage));
        var spec = _series[0].Spec;
        var detail = await detailQueries.GetAsync(spec.SeriesUid, null);
        Assert.NotNull(detail);
        Assert.Equal(spec.SopUid, detail.RepresentativeSOPInstanceUID);
        Assert.Equal(["default"], detail.Projects);
        var attributes = await detailQueries.AttributesAsync(detail);
        Assert.Contains(attributes, a => a.Keyword == "ProtocolName" && a.Value == _series[0].Protocol);
        Assert.Contains(attributes, a => a.Keyword == "PatientID" && a.Value == spec.PatientID);
        Assert.Null(await detailQueries.GetAsync("1.2.3.999", null));
    }
}
