using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Projects;

namespace Kaapana.Tests.Archive.Admin;

/// <summary>The catalog's admin commands over a real index: project summaries, description, delete-only-when-empty, endpoint rules.</summary>
public sealed class ProjectAdminTests
{
    [Fact]
    public async Task Summaries_count_series_instances_and_bytes_and_only_an_empty_non_default_project_can_be_deleted()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var full = await host.Projects.CreateProjectAsync("full");
        var empty = await host.Projects.CreateProjectAsync("empty", "to delete");
        await Assert.ThrowsAsync<CatalogValidationException>(() => host.Projects.CreateProjectAsync(" full "));
        string series = TestInstances.NewUid(), study = TestInstances.NewUid();
        long bytes = 0;
        for (int i = 1; i <= 2; i++)
        {
            var r = await host.IngestAsync(TestInstances.Create(new TestInstances.Spec("P-ADM", "Adm^In", study, series, TestInstances.NewUid(), InstanceNumber: i)),
                new IngestContext { Project = "full" });
            Assert.Equal(IngestStatus.Stored, r.Status);
            bytes += r.Size;
        }
        var dataset = await host.Projects.CreateDatasetAsync(empty.Id, "ds");
        await host.Projects.SaveReceivingEndpointAsync("EMPTY_AE", empty.Id, dataset.Id, null, mustBeNew: true);

        var summaries = (await host.Projects.ListProjectSummariesAsync()).ToDictionary(p => p.Name);
        Assert.Equal((1, 2L, bytes, 0), (summaries["full"].Series, summaries["full"].Instances, summaries["full"].Bytes, summaries["full"].Datasets));
        Assert.Equal((0, 0L, 0L, 1), (summaries["empty"].Series, summaries["empty"].Instances, summaries["empty"].Bytes, summaries["empty"].Datasets));
        Assert.Contains("default", summaries.Keys);

        Assert.True(await host.Projects.UpdateProjectDescriptionAsync(full.Id, "  lung CTs "));
        Assert.Equal("lung CTs", (await host.Projects.FindProjectAsync("full"))!.Description);
        Assert.False(await host.Projects.UpdateProjectDescriptionAsync(9999, "x"));

        Assert.Equal(ProjectDeleteOutcome.NotEmpty, await host.Projects.DeleteProjectAsync(full.Id));
        Assert.Equal(ProjectDeleteOutcome.NotEmpty, await host.Projects.DeleteProjectAsync((await host.Projects.FindProjectAsync("default"))!.Id));
        Assert.Equal(ProjectDeleteOutcome.Deleted, await host.Projects.DeleteProjectAsync(empty.Id));
        Assert.Equal(ProjectDeleteOutcome.NotFound, await host.Projects.DeleteProjectAsync(empty.Id));
        Assert.Null(await host.Projects.FindReceivingEndpointAsync("EMPTY_AE"));
        Assert.NotNull(await host.Projects.FindProjectAsync("full"));
        Assert.Equal(["default", "full"], (await host.Projects.ListProjectsAsync()).Select(p => p.Name));
    }

    [Fact]
    public async Task Endpoint_rules_ae_title_project_dataset_of_that_project_and_uniqueness_when_adding()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var a = await host.Projects.CreateProjectAsync("a");
        var b = await host.Projects.CreateProjectAsync("b");
        var dsOfB = await host.Projects.CreateDatasetAsync(b.Id, "only-b");

        await Assert.ThrowsAsync<CatalogValidationException>(() => host.Projects.SaveReceivingEndpointAsync("A\\B", a.Id, null, null, true));
        await Assert.ThrowsAsync<CatalogValidationException>(() => host.Projects.SaveReceivingEndpointAsync("SEVENTEEN_CHARS_X", a.Id, null, null, true));
        await Assert.ThrowsAsync<CatalogValidationException>(() => host.Projects.SaveReceivingEndpointAsync("OK", 9999, null, null, true));
        await Assert.ThrowsAsync<CatalogValidationException>(() => host.Projects.SaveReceivingEndpointAsync("OK", a.Id, dsOfB.Id, null, true));

        var saved = await host.Projects.SaveReceivingEndpointAsync(" A_AE ", a.Id, null, "first", true);
        Assert.Equal(("A_AE", "a", (string?)null, "first"), (saved.AETitle, saved.Project, saved.Dataset, saved.Description));
        await Assert.ThrowsAsync<CatalogValidationException>(() => host.Projects.SaveReceivingEndpointAsync("A_AE", b.Id, null, null, true));
        var moved = await host.Projects.SaveReceivingEndpointAsync("A_AE", b.Id, dsOfB.Id, null, false);
        Assert.Equal(("b", "only-b", (string?)null), (moved.Project, moved.Dataset, moved.Description));

        // Ingest through the called AE goes where the endpoint now points (the catalog's cache is cleared by the change).
        var r = await host.IngestAsync(TestInstances.Create(new TestInstances.Spec("P-EP", "E^P", TestInstances.NewUid(), TestInstances.NewUid(), TestInstances.NewUid())),
            new IngestContext { CalledAE = "A_AE" });
        Assert.Equal(IngestStatus.Stored, r.Status);
        Assert.Equal([r.SeriesInstanceUid!], await host.Projects.GetDatasetSeriesAsync(dsOfB.Id));

        Assert.Equal(["A_AE", "KAAPANA"], (await host.Projects.ListReceivingEndpointsAsync()).Select(e => e.AETitle));
        Assert.True(await host.Projects.DeleteReceivingEndpointAsync("A_AE"));
        Assert.False(await host.Projects.DeleteReceivingEndpointAsync("A_AE"));
    }
}
