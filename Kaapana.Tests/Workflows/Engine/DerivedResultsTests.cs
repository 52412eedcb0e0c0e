using Kaapana.Core.Archive.Index;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Workflows.Docker;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Workflows.Engine;

/// <summary>
/// Results back with DICOM: an image built in the test copies prepared DICOM files (a derived series in the input's study),
/// a metrics.json and a text file to /output. Checks ingest, the results dataset, provenance, metrics, and that executing
/// the item again after a restart (the recovery path) neither duplicates the derived series nor leaves orphan containers.
/// </summary>
[Collection(DockerCollection.Name)]
public class DerivedResultsTests(DockerTestEngine docker)
{
    private const string Manifest = """
        {"name":"copy-derived","version":"1.0.0","input":{"scope":"dataset","modalities":["CT"]},
         "parameters":[{"name":"threshold","type":"number","default":0.5}],
         "outputs":["dicom","metrics","files"]}
        """;

    [Fact]
    public async Task Derived_series_are_ingested_with_provenance_and_a_restart_re_executes_without_duplicates_or_orphans()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-workflow-derived-").FullName;
        var instanceId = "kaapana-engine-test-" + Guid.NewGuid().ToString("N");
        string image = "";
        try
        {
            long runId;
            string derivedSeries;
            int instanceCount;
            await using (var host = await WorkflowTestHost.StartAsync(docker, dataDir, instanceId))
            {
                var (version, sources, study) = await host.SeedDatasetAsync(2, instances: 2);
                derivedSeries = TestInstances.NewUid();
                image = await DerivedImage.BuildAsync(docker, study, derivedSeries);
                var algorithm = await host.RegisterAsync(image, Manifest);
                runId = await host.CreateRunAsync(algorithm.Id, version);
                var (run, items) = await host.WaitForRunAsync(runId);
                var item = Assert.Single(items);
                Assert.True(run.State == WorkState.Succeeded, item.Error);

                await using var db = host.CreateDb();
                var series = await db.Series.Include(s => s.Instances).SingleAsync(s => s.SeriesInstanceUID == derivedSeries);
                Assert.Equal(2, series.Instances.Count);
                Assert.All(series.Instances, i => Assert.Equal(IngestSource.Algorithm, i.Source));
                Assert.Equal([derivedSeries], await host.Projects.GetDatasetSeriesAsync(run.ResultsDatasetId!.Value));
                Assert.Equal(Kaapana.Core.Workflows.Runs.WorkflowRuns.ResultsDatasetName(run),
                    (await db.Datasets.SingleAsync(d => d.Id == run.ResultsDatasetId)).Name);
                instanceCount = await db.Instances.CountAsync();

                var provenance = (await host.Results.GetProvenanceAsync(derivedSeries))!;
                Assert.Equal("copy-derived", provenance["algorithm"]!["name"]!.GetValue<string>());
                Assert.Equal(algorithm.ImageDigest, provenance["algorithm"]!["imageDigest"]!.GetValue<string>());
                Assert.Equal(0.5, provenance["parameters"]!["threshold"]!.GetValue<double>());
                Assert.Equal(version, provenance["input"]!["datasetVersionId"]!.GetValue<long>());
                Assert.Equal(4, provenance["input"]!["sopInstanceUIDs"]!.AsArray().Count);
                Assert.Equal(sources.Order(StringComparer.Ordinal), provenance["sourceSeriesInstanceUIDs"]!.AsArray().Select(n => n!.GetValue<string>()));
                Assert.Equal(0, provenance["item"]!["exitCode"]!.GetValue<long>());
                Assert.NotNull(provenance["item"]!["startedAt"]);
                Assert.False(string.IsNullOrEmpty(provenance["serverVersion"]!.GetValue<string>()));

                var metrics = (await host.Results.GetMetricsAsync(runId))!;
                Assert.Equal(["voxels", "volumeMl", "label"], metrics.Columns);
                Assert.Equal(1234, Assert.Single(metrics.Rows).Values["voxels"]!.GetValue<int>());
                var csv = Kaapana.Core.Workflows.Results.RunResults.ToCsv(metrics);
                Assert.Equal($"item,key,voxels,volumeMl,label\r\n{item.Id},dataset,1234,5.5,\"a, b\"\r\n", csv);
                Assert.Equal("notes.txt", Assert.Single(await host.Results.ListArtifactsAsync(runId)).Name);

                // A crash mid-item, as the next start finds it: the item still Running, its container still there.
                await db.RunItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.State, WorkState.Running));
                await db.WorkflowRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(u => u.SetProperty(r => r.State, WorkState.Running));
                await host.StopAsync();
            }

            // An orphan container labelled as this server instance's, left "running" by the crash.
            using var orphanRunner = docker.NewRunner(o => o.InstanceId = instanceId);
            using var orphanFolder = new WorkFolder();
            using var stopOrphan = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var orphan = orphanRunner.RunAsync(new Kaapana.Core.Workflows.Docker.ContainerRunSpec(
                DockerTestEngine.Image("hang"), runId.ToString(), "999999", orphanFolder.Input, orphanFolder.Output), cancellationToken: stopOrphan.Token);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await orphanRunner.ListContainersAsync()).Count == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the orphan container did not start");
                await Task.Delay(100);
            }

            await using (var host = await WorkflowTestHost.StartAsync(docker, dataDir, instanceId))
            {
                var (run, items) = await host.WaitForRunAsync(runId);
                Assert.Equal(WorkState.Succeeded, run.State);
                Assert.Equal(2, Assert.Single(items).Attempt);
                await using var db = host.CreateDb();
                Assert.Equal(instanceCount, await db.Instances.CountAsync());
                Assert.Equal(2, await db.Instances.CountAsync(i => i.Series.SeriesInstanceUID == derivedSeries));
                Assert.Equal(1, await db.DerivedSeries.CountAsync());
                Assert.Equal(1, await db.RunArtifacts.CountAsync());
                Assert.NotNull(await host.Results.GetProvenanceAsync(derivedSeries));
                Assert.Empty(await host.ContainersAsync());
            }
            // The restarted server removed it: its run ends without our cancellation (the engine error or the kill is its end).
            try
            {
                var ended = await orphan;
                Assert.NotEqual(Kaapana.Core.Workflows.Docker.ContainerOutcome.Cancelled, ended.Outcome);
            }
            catch (Kaapana.Core.Workflows.Docker.ContainerEngineException)
            {
            }
        }
        finally
        {
            if (image.Length > 0) await DerivedImage.RemoveAsync(docker, image);
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
