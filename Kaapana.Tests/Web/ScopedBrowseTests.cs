using Kaapana.Core.Access;
using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Retrieve;
using Kaapana.Core.Audit;
using Kaapana.Tests.Archive;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Web;

/// <summary>
/// The browse queries and the browser's delete under an access scope, on a real index: series of "default" only, of "other"
/// only, and one shared by both. A scope sees only its projects' series, counts and facets; an invisible series answers like
/// a missing UID; deleting needs Manage on every project of the series and is audited either way.
/// </summary>
public sealed class ScopedBrowseTests : IAsyncLifetime
{
    private ArchiveTestHost _host = null!;
    private int _default, _other;
    private string _onlyDefault = "", _onlyOther = "", _shared = "";
    private readonly ListAuditTrail _audit = new();

    public async Task InitializeAsync()
    {
        _host = await ArchiveTestHost.StartAsync();
        _default = (await _host.Projects.FindProjectAsync("default"))!.Id;
        _other = (await _host.Projects.CreateProjectAsync("other")).Id;
        _onlyDefault = await StoreAsync("PDEF", "Defoe^Dan", "CT");
        _shared = await StoreAsync("PDEF", "Defoe^Dan", "MR");
        _onlyOther = await StoreAsync("POTH", "Otter^Olga", "PT");
        await _host.Projects.AddSeriesToProjectAsync(_other, [_shared, _onlyOther]);
        await using var db = _host.CreateDb();
        // Ingest put every series into "default": take the other project's own series out of it.
        var otherId = await db.Series.Where(s => s.SeriesInstanceUID == _onlyOther).Select(s => s.Id).SingleAsync();
        db.ProjectSeries.RemoveRange(db.ProjectSeries.Where(ps => ps.SeriesId == otherId && ps.ProjectId == _default));
        await db.SaveChangesAsync();
    }

    private async Task<string> StoreAsync(string patientId, string name, string modality)
    {
        var spec = new TestInstances.Spec(patientId, name, TestInstances.NewUid(), TestInstances.NewUid(), TestInstances.NewUid(), Modality: modality);
        var result = await _host.IngestAsync(TestInstances.ToBytes(TestInstances.CreateDataset(spec)));
        Assert.Equal(IngestStatus.Stored, result.Status);
        return spec.SeriesUid;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private IDbContextFactory<KaapanaDbContext> Factory => _host.Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>();

    private static AccessScope Member(int project, ProjectRole role, string name = "someone") =>
        new("uid-" + name, name, false, new Dictionary<int, ProjectRole> { [project] = role });

    [Fact]
    public async Task Queries_answer_only_from_the_visible_projects_and_an_invisible_project_or_series_looks_missing()
    {
        var browse = new BrowseQueries(Factory);
        int[] onlyOther = [_other];
        Assert.Equal(3, await browse.CountAsync(new BrowseFilter(), null));
        Assert.Equal(2, await browse.CountAsync(new BrowseFilter(), onlyOther));
        Assert.Equal(0, await browse.CountAsync(new BrowseFilter(), []));
        // Naming a project outside the scope answers like naming one that does not exist.
        Assert.Equal(0, await browse.CountAsync(new BrowseFilter { Project = "default" }, onlyOther));
        Assert.Equal(0, await browse.CountAsync(new BrowseFilter { Project = "nope" }, onlyOther));
        var rows = await browse.PageAsync(new BrowseFilter(), onlyOther, 0, 50);
        Assert.Equal(new[] { _onlyOther, _shared }.Order(StringComparer.Ordinal), rows.Select(r => r.SeriesInstanceUID).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(rows, r => r.SeriesInstanceUID == _onlyDefault);
        Assert.Equal(["MR", "PT"], (await browse.FacetAsync(new BrowseFilter(), onlyOther, "Modality")).Select(f => f.Value).Order());
        Assert.Equal(new SelectionTotals(1, 1, (await browse.TotalsAsync([_shared], null)).Bytes), await browse.TotalsAsync([_onlyDefault, _shared], onlyOther));
        var uids = new List<string>();
        await foreach (var chunk in browse.SeriesUidChunksAsync(new BrowseFilter(), onlyOther, 1)) uids.AddRange(chunk);
        Assert.Equal(2, uids.Count);

        var dashboard = new DashboardQueries(Factory, browse);
        Assert.Equal(new ArchiveTotals(0, 0, 0, 0, 0), await dashboard.TotalsAsync(null, []));
        var totals = await dashboard.TotalsAsync(null, onlyOther);
        Assert.Equal((2, 2), (totals.Patients, totals.Series));
        Assert.Equal(new ArchiveTotals(0, 0, 0, 0, 0), await dashboard.TotalsAsync("default", onlyOther));

        var detail = new SeriesDetailQueries(Factory, new InstanceRetrieval(Factory, _host.Storage));
        Assert.Null(await detail.GetAsync(_onlyDefault, onlyOther));
        var shared = await detail.GetAsync(_shared, onlyOther);
        // Seen through "other": the page names only the projects the caller sees.
        Assert.Equal(["other"], shared!.Projects);
        Assert.Equal(["default", "other"], (await detail.GetAsync(_shared, null))!.Projects);

        var dataset = await _host.Projects.CreateDatasetAsync(_default, "scoped-ds");
        var datasets = new DatasetQueries(Factory);
        Assert.Null(await datasets.GetAsync(dataset.Id, onlyOther));
        Assert.NotNull(await datasets.GetAsync(dataset.Id, [_default]));
        // The browser scoped to a dataset of an invisible project shows nothing, even series visible through another project.
        await _host.Projects.AddSeriesToDatasetAsync(dataset.Id, [_shared]);
        Assert.Equal(0, await browse.CountAsync(new BrowseFilter { Dataset = dataset.Id }, onlyOther));
        Assert.Equal(1, await browse.CountAsync(new BrowseFilter { Dataset = dataset.Id }, [_default]));
    }

    [Fact]
    public async Task Deleting_needs_manage_on_every_project_of_the_series_and_every_attempt_is_audited()
    {
        var deletion = new SeriesDeletion(Factory, _host.Maintenance, _audit);
        var viewer = Member(_default, ProjectRole.Viewer, "viewer");
        var padminDefault = Member(_default, ProjectRole.ProjectAdmin, "padmin");
        var outsider = Member(_other, ProjectRole.ProjectAdmin, "other-admin");

        Assert.Equal(SeriesDeleteOutcome.Denied, await deletion.DeleteAsync(viewer, _onlyDefault));
        // Shared with "other", where padmin is nobody: refused.
        Assert.Equal(SeriesDeleteOutcome.Denied, await deletion.DeleteAsync(padminDefault, _shared));
        // Invisible to other-admin: answered like a UID that does not exist, and nothing is deleted.
        Assert.Equal(SeriesDeleteOutcome.NotFound, await deletion.DeleteAsync(outsider, _onlyDefault));
        Assert.Equal(SeriesDeleteOutcome.NotFound, await deletion.DeleteAsync(outsider, "1.2.3.4.404"));
        Assert.Equal(3, await new BrowseQueries(Factory).CountAsync(new BrowseFilter(), null));

        Assert.Equal(SeriesDeleteOutcome.Deleted, await deletion.DeleteAsync(padminDefault, _onlyDefault));
        Assert.Equal(SeriesDeleteOutcome.Deleted, await deletion.DeleteAsync(AccessScope.System, _shared));
        Assert.Equal(1, await new BrowseQueries(Factory).CountAsync(new BrowseFilter(), null));

        var trail = _audit.Events.Select(e => (e.Actor, e.Action, e.Target, e.Outcome)).ToList();
        Assert.Equal(
        [
            ("viewer", AuditActions.SeriesDeleted, _onlyDefault, AuditOutcomes.Denied),
            ("padmin", AuditActions.SeriesDeleted, _shared, AuditOutcomes.Denied),
            ("padmin", AuditActions.SeriesDeleted, _onlyDefault, AuditOutcomes.Success),
            ("system", AuditActions.SeriesDeleted, _shared, AuditOutcomes.Success),
        ], trail);
    }
}
