using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Query;
using Kaapana.Dicom;
using Kaapana.Dicom.Network.Query;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Archive.Query;

/// <summary>
/// <see cref="IndexSearch"/> pages larger than the chunk it keeps in memory (500 rows: the rest of such a page is read again by
/// id range), and the SQL pre-filter on the search form of Patient Name, on index rows written directly (1,300 studies).
/// The whole unpaged search (as C-FIND streams it) is the reference for every page.
/// </summary>
public sealed class IndexSearchPagingTests : IAsyncLifetime
{
    private ArchiveTestHost _host = null!;
    private IndexSearch _search = null!;

    // Names the literal PN matcher matches with "SMI*" in ways a plain prefix of the search form would not show.
    private static readonly string[] Names = ["Smith^Anna", "SMITH^BEN", "smithers", "Smyth^Carla", "Yamada^Taro=SMITH^TARO", "Jones^Smith", "  Smith^Ida"];

    public async Task InitializeAsync()
    {
        _host = await ArchiveTestHost.StartAsync();
        _search = ActivatorUtilities.CreateInstance<IndexSearch>(_host.Services);
        await using var db = _host.CreateDb();
        var patients = Names.Select((n, i) => new Patient
        {
            PatientID = $"IS{i}", PatientName = n, PatientNameSearch = IndexAttributes.NormalizeName(n), CreatedAt = DateTime.UtcNow,
        }).ToList();
        db.AddRange(patients);
        for (int i = 0; i < 1300; i++)
        {
            db.Add(new Study
            {
                Patient = patients[i % patients.Count], StudyInstanceUID = $"1.2.826.0.1.3680043.9.7423.9.{i + 1}",
                StudyDate = i % 3 == 0 ? "20200101" : "20210615", CreatedAt = DateTime.UtcNow, LastReceivedAt = DateTime.UtcNow,
            });
        }
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static DicomDataset Identifier(params (DicomTag Tag, string Value)[] keys)
    {
        var ds = new DicomDataset();
        ds.Set(DicomTags.QueryRetrieveLevel, "STUDY");
        ds.SetEmpty(DicomTags.StudyInstanceUID);
        ds.SetEmpty(DicomTags.PatientName);
        foreach (var (tag, value) in keys) ds.Set(tag, value.Split('\\'));
        return ds;
    }

    private async Task<(List<string> Uids, bool More, bool Sql)> SearchAsync(DicomDataset identifier, int? limit = null, int offset = 0)
    {
        var r = await _search.SearchAsync(QueryRetrieveLevel.Study, identifier, new IndexSearchOptions { Limit = limit, Offset = offset });
        var uids = new List<string>();
        await foreach (var c in r.Matches) uids.Add(c.GetString(DicomTags.StudyInstanceUID));
        return (uids, r.HasMore, r.PagedInSql);
    }

    public static TheoryData<string, string> Keys() => new()
    {
        { "StudyDate", "20210615" }, // exact in SQL: LIMIT/OFFSET in SQLite
        { "PatientName", "smi*" }, // in memory after a SQL superset: scanned
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task Pages_larger_than_the_kept_chunk_equal_the_unpaged_result(string keyword, string value)
    {
        Assert.True(DicomTag.TryParse(keyword, out var tag));
        var id = Identifier((tag, value));
        var (whole, _, _) = await SearchAsync(id);
        Assert.True(whole.Count > 800, $"only {whole.Count} matches");
        var first = await SearchAsync(id, limit: 700);
        Assert.Equal(keyword == "StudyDate", first.Sql);
        Assert.True(first.More);
        Assert.Equal(whole.Take(700), first.Uids);
        var rest = await SearchAsync(id, limit: 700, offset: 700);
        Assert.False(rest.More);
        Assert.Equal(whole.Skip(700), rest.Uids);
        var exactly = await SearchAsync(id, limit: whole.Count);
        Assert.False(exactly.More);
        Assert.Equal(whole, exactly.Uids);
        var oneShort = await SearchAsync(id, limit: whole.Count - 1, offset: 1);
        Assert.False(oneShort.More);
        Assert.Equal(whole.Skip(1), oneShort.Uids);
    }

    [Theory]
    [InlineData("SMI*")]
    [InlineData("smith^anna")]
    [InlineData("SMITH^TARO")]
    [InlineData("Sm?th*")]
    [InlineData("*SMITH*")]
    [InlineData("S*\\yamada*")]
    public async Task The_patient_name_pre_filter_loses_no_match(string name)
    {
        // Reference: every study, matched in memory by the same literal PN rules C-FIND uses.
        var query = IndexSearch.Parse(Identifier((DicomTags.PatientName, name)));
        var all = await _search.SearchAsync(QueryRetrieveLevel.Study, Identifier());
        var expected = new List<string>();
        await foreach (var c in all.Matches)
            if (query.Matches(c)) expected.Add(c.GetString(DicomTags.StudyInstanceUID));
        Assert.NotEmpty(expected);
        var (found, _, _) = await SearchAsync(Identifier((DicomTags.PatientName, name)));
        Assert.Equal(expected, found);
        Assert.Equal(expected.Take(10), (await SearchAsync(Identifier((DicomTags.PatientName, name)), limit: 10)).Uids);
    }

    [Fact]
    public async Task Names_matched_through_a_later_component_group_or_after_spaces_are_found()
    {
        await using var db = _host.CreateDb();
        var names = (await SearchAsync(Identifier((DicomTags.PatientName, "SMI*")), limit: 2000)).Uids
            .Select(uid => db.Studies.Include(s => s.Patient).Single(s => s.StudyInstanceUID == uid).Patient.PatientName).Distinct().Order().ToList();
        Assert.Equal(["  Smith^Ida", "SMITH^BEN", "Smith^Anna", "Yamada^Taro=SMITH^TARO", "smithers"], names.Order(StringComparer.Ordinal));
    }
}
