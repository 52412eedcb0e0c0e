using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Projects;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive;

public class ProjectTests
{
    private static readonly Dictionary<string, string?> LungEndpoint = new()
    {
        ["Kaapana:Archive:ReceivingEndpoints:0:AETitle"] = "LUNG_STUDY",
        ["Kaapana:Archive:ReceivingEndpoints:0:Project"] = "lung",
        ["Kaapana:Archive:ReceivingEndpoints:1:AETitle"] = "LUNG_TRAIN",
        ["Kaapana:Archive:ReceivingEndpoints:1:Project"] = "lung",
        ["Kaapana:Archive:ReceivingEndpoints:1:Dataset"] = "training",
    };

    private static async Task<List<string>> ProjectsOfSeriesAsync(ArchiveTestHost host, string seriesUid)
    {
        await using var db = host.CreateDb();
        return await db.ProjectSeries.Where(l => l.Series.SeriesInstanceUID == seriesUid)
            .Join(db.Projects, l => l.ProjectId, p => p.Id, (l, p) => p.Name).OrderBy(n => n).ToListAsync();
    }

    [Fact]
    public async Task The_called_AE_files_data_into_its_project_and_dataset_and_the_default_AE_into_the_default_project()
    {
        await using var host = await ArchiveTestHost.StartAsync(settings: LungEndpoint);
        var lungSeries = TestInstances.NewUid();
        var r = await host.IngestAsync(TestInstances.Single(out _, seriesUid: lungSeries), new IngestContext { Source = IngestSource.Dimse, CalledAE = "LUNG_STUDY" });
        Assert.Equal(IngestStatus.Stored, r.Status);
        Assert.Equal(["lung"], await ProjectsOfSeriesAsync(host, lungSeries));

        var defaultSeries = TestInstances.NewUid();
        await host.IngestAsync(TestInstances.Single(out _, seriesUid: defaultSeries), new IngestContext { CalledAE = "KAAPANA" });
        Assert.Equal(["default"], await ProjectsOfSeriesAsync(host, defaultSeries));

        // No called AE (an upload without a project) and an unknown one: the default project.
        var uploadSeries = TestInstances.NewUid();
        await host.IngestAsync(TestInstances.Single(out _, seriesUid: uploadSeries), new IngestContext { CalledAE = "SOMEONE_ELSE" });
        Assert.Equal(["default"], await ProjectsOfSeriesAsync(host, uploadSeries));

        // A dataset endpoint.
        var trainSeries = TestInstances.NewUid();
        await host.IngestAsync(TestInstances.Single(out _, seriesUid: trainSeries), new IngestContext { CalledAE = "LUNG_TRAIN" });
        var lung = await host.Projects.FindProjectAsync("lung");
        var training = await host.Projects.FindDatasetAsync(lung!.Id, "training");
        Assert.Equal([trainSeries], await host.Projects.GetDatasetSeriesAsync(training!.Id));
        Assert.Equal(lung.Id, (await host.Projects.FindReceivingEndpointAsync("LUNG_TRAIN"))!.ProjectId);
    }

    [Fact]
    public async Task A_series_sent_to_two_projects_belongs_to_both()
    {
        await using var host = await ArchiveTestHost.StartAsync(settings: LungEndpoint);
        var series = TestInstances.NewUid();
        var bytes = TestInstances.Single(out _, seriesUid: series);
        Assert.Equal(IngestStatus.Stored, (await host.IngestAsync(bytes, new IngestContext { CalledAE = "KAAPANA" })).Status);
        Assert.Equal(IngestStatus.Duplicate, (await host.IngestAsync(bytes, new IngestContext { CalledAE = "LUNG_STUDY" })).Status);
        Assert.Equal(["default", "lung"], await ProjectsOfSeriesAsync(host, series));

        // Explicit project by name (an upload into a project) and adding by command.
        var other = await host.Projects.CreateProjectAsync("other");
        var series2 = TestInstances.NewUid();
        await host.IngestAsync(TestInstances.Single(out _, seriesUid: series2), new IngestContext { Project = "other" });
        Assert.Equal(["other"], await ProjectsOfSeriesAsync(host, series2));
        Assert.Equal(1, await host.Projects.AddSeriesToProjectAsync(other.Id, [series, series2, "1.2.3.unknown"]));
        Assert.Equal(["default", "lung", "other"], await ProjectsOfSeriesAsync(host, series));
    }

    [Fact]
    public async Task Dataset_versions_are_immutable_snapshots_and_deleting_datasets_or_series_behaves()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var project = await host.Projects.CreateProjectAsync("research");
        var dataset = await host.Projects.CreateDatasetAsync(project.Id, "cohort-a");
        var study = TestInstances.NewUid();
        var seriesA = TestInstances.NewUid();
        var seriesB = TestInstances.NewUid();
        var sopsA = new List<string>();
        var sopsB = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            await host.IngestAsync(TestInstances.Single(out var a, seriesA, study));
            sopsA.Add(a);
            await host.IngestAsync(TestInstances.Single(out var b, seriesB, study));
            sopsB.Add(b);
        }

        Assert.Equal(1, await host.Projects.AddSeriesToDatasetAsync(dataset.Id, [seriesA]));
        var v1 = await host.Projects.FreezeAsync(dataset.Id, "first cut");
        Assert.Equal(1, v1.Number);
        Assert.Equal(3, v1.InstanceCount);
        Assert.Equal(IProjectCatalog.HashUidList(sopsA.Order(StringComparer.Ordinal)), v1.UidListHash);

        Assert.Equal(1, await host.Projects.AddSeriesToDatasetAsync(dataset.Id, [seriesB]));
        var v2 = await host.Projects.FreezeAsync(dataset.Id, "with B");
        Assert.Equal(2, v2.Number);
        Assert.Equal(6, v2.InstanceCount);
        Assert.NotEqual(v1.UidListHash, v2.UidListHash);
        // Series added to a dataset join its project.
        await using (var db = host.CreateDb())
            Assert.Equal(2, await db.ProjectSeries.CountAsync(l => l.ProjectId == project.Id));

        // Deleting a series removes its files and rows, and it leaves the dataset; frozen versions keep their lists.
        string[] filesOfB;
        await using (var db = host.CreateDb())
            filesOfB = await db.Instances.Where(i => i.Series.SeriesInstanceUID == seriesB).Select(i => i.StoragePath).ToArrayAsync();
        Assert.True(await host.Maintenance.DeleteSeriesAsync(seriesB));
        Assert.All(filesOfB, f => Assert.False(File.Exists(host.PathOf(f))));
        await using (var db = host.CreateDb())
        {
            Assert.Equal(0, await db.Instances.CountAsync(i => sopsB.Contains(i.SOPInstanceUID)));
            Assert.Equal(0, await db.Series.CountAsync(s => s.SeriesInstanceUID == seriesB));
            var st = await db.Studies.SingleAsync(s => s.StudyInstanceUID == study);
            Assert.Equal(1, st.NumberOfSeries);
            Assert.Equal(3, st.NumberOfInstances);
        }
        Assert.Equal([seriesA], await host.Projects.GetDatasetSeriesAsync(dataset.Id));
        var v2Again = await host.Projects.GetVersionAsync(v2.Id);
        Assert.Equal(sopsA.Concat(sopsB).Order(StringComparer.Ordinal), v2Again!.Items.Select(i => i.SOPInstanceUID));
        Assert.Equal(v2.UidListHash, IProjectCatalog.HashUidList(v2Again.Items.Select(i => i.SOPInstanceUID)));
        Assert.Equal(seriesB, v2Again.Items.Single(i => i.SOPInstanceUID == sopsB[0]).SeriesInstanceUID);

        // Deleting the dataset keeps every series, instance and file, and the versions.
        Assert.True(await host.Projects.DeleteDatasetAsync(dataset.Id));
        await using (var db = host.CreateDb())
        {
            Assert.Equal(3, await db.Instances.CountAsync());
            Assert.Equal(0, await db.DatasetSeries.CountAsync());
            Assert.Equal(2, await db.DatasetVersions.CountAsync(v => v.DatasetId == null && v.DatasetName == "cohort-a"));
        }
        Assert.Equal(3, host.InstanceFiles().Count);
        Assert.Equal(3, (await host.Projects.GetVersionAsync(v1.Id))!.Items.Count);
        Assert.True((await host.Maintenance.CheckConsistencyAsync()).IsConsistent);

        // The last series of a study: study and patient go too.
        Assert.True(await host.Maintenance.DeleteSeriesAsync(seriesA));
        await using (var db = host.CreateDb())
        {
            Assert.Equal(0, await db.Studies.CountAsync());
            Assert.Equal(0, await db.Patients.CountAsync());
        }
        Assert.Empty(host.InstanceFiles());
        Assert.False(await host.Maintenance.DeleteSeriesAsync(seriesA));
    }
}
