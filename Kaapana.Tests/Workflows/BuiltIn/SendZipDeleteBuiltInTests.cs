using System.Globalization;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.BuiltIn;
using Kaapana.Core.Workflows.Runs;
using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Network;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Workflows.BuiltIn;

/// <summary>
/// builtin/send-to-node against DCMTK storescp, builtin/zip-export and builtin/delete-series through the whole engine (runs,
/// items, Hangfire jobs, logs, metrics, artifacts), with no Docker engine reachable.
/// </summary>
[Collection(BuiltInCollection.Name)]
public class SendZipDeleteBuiltInTests
{
    [Fact]
    public async Task Send_to_node_stores_every_instance_on_storescp_with_equal_datasets_and_a_dead_node_fails_the_item_clearly()
    {
        var root = Directory.CreateTempSubdirectory("kaapana-builtin-send-").FullName;
        try
        {
            await using var scp = await StoreScpProcess.StartAsync(Path.Combine(root, "received"), "STORESCP");
            var deadPort = TestPorts.Free();
            await using var host = await BuiltInTestHost.StartAsync(new Dictionary<string, string?>
            {
                ["Kaapana:Dicom:RemoteNodes:0:AETitle"] = "STORESCP",
                ["Kaapana:Dicom:RemoteNodes:0:Host"] = "127.0.0.1",
                ["Kaapana:Dicom:RemoteNodes:0:Port"] = scp.Port.ToString(CultureInfo.InvariantCulture),
                ["Kaapana:Dicom:RemoteNodes:1:AETitle"] = "DEAD",
                ["Kaapana:Dicom:RemoteNodes:1:Host"] = "127.0.0.1",
                ["Kaapana:Dicom:RemoteNodes:1:Port"] = deadPort.ToString(CultureInfo.InvariantCulture),
            });
            await host.ProjectAsync("send");
            var series = await host.SeedSeriesAsync("send", 2, instances: 3);
            var version = await host.FreezeAsync("send", series);

            var runId = await host.RunAsync("builtin/send-to-node", version, new JsonObject { ["node"] = "STORESCP" });
            var (run, items) = await host.WaitForRunAsync(runId);
            Assert.True(run.State == WorkState.Succeeded, string.Join("\n", items.Select(i => i.Error)) + "\n" + scp.Log);
            Assert.Equal(2, items.Count);
            Assert.StartsWith("builtin:", run.ImageDigest);

            // Every stored file arrived, and what arrived is the same data set.
            var stored = new Dictionary<string, string>();
            foreach (var s in series)
                foreach (var (sop, path) in await host.FilesOfSeriesAsync(s)) stored[sop] = path;
            var arrived = Directory.GetFiles(scp.OutputDir).ToDictionary(f => DicomFile.Open(f).Dataset.GetString(DicomTags.SOPInstanceUID), f => f);
            Assert.Equal(stored.Keys.Order(), arrived.Keys.Order());
            foreach (var (sop, path) in stored)
                DatasetAssert.Equal(DicomFile.Open(path).Dataset, DicomFile.Open(arrived[sop]).Dataset, sop);

            // Per item: DIMSE statuses in the metrics row, the per-instance report as an artifact, a log.
            var metrics = (await host.Results.GetMetricsAsync(runId))!;
            Assert.Equal(2, metrics.Rows.Count);
            Assert.All(metrics.Rows, r =>
            {
                Assert.Equal(3, r.Values["stored"]!.GetValue<int>());
                Assert.Equal(0, r.Values["failed"]!.GetValue<int>());
                Assert.Equal(3, r.Values["status_0000"]!.GetValue<int>());
            });
            var reports = await host.Results.ListArtifactsAsync(runId);
            Assert.Equal(2, reports.Count);
            Assert.All(reports, a => Assert.Equal(SendToNodeWorkflow.ReportName, a.Name));
            var report = JsonNode.Parse(await File.ReadAllTextAsync(host.Results.AbsolutePath(reports[0])))!;
            Assert.All(report["instances"]!.AsArray(), i => Assert.StartsWith("0x0000", i!["Status"]!.GetValue<string>()));
            var log = await File.ReadAllTextAsync((await host.Results.GetLogPathAsync(runId, items[0].Id))!);
            Assert.Contains("STORESCP: 3 stored, 0 failed", log);

            // Nothing listens on the dead node's port: the item fails and says where it could not send.
            var deadRun = await host.RunAsync("builtin/send-to-node", version, new JsonObject { ["node"] = "DEAD" });
            var (dead, deadItems) = await host.WaitForRunAsync(deadRun);
            Assert.Equal(WorkState.Failed, dead.State);
            Assert.All(deadItems, i =>
            {
                Assert.Equal(WorkState.Failed, i.State);
                Assert.Contains($"could not send to DEAD at 127.0.0.1:{deadPort}", i.Error);
            });
            // Retry-failed works for built-ins like for containers: the next attempt, with its own log.
            Assert.Equal(RunCommandOutcome.Done, (await host.Runs.RetryFailedAsync(deadRun)).Outcome);
            var (_, retried) = await host.WaitForRunAsync(deadRun);
            Assert.All(retried, i => Assert.True(i.State == WorkState.Failed && i.Attempt == 2, $"{i.State} attempt {i.Attempt}"));
            Assert.EndsWith("-2.log", (await host.Results.GetLogPathAsync(deadRun, retried[0].Id))!);

            // An unknown node is refused at launch, with the known ones named.
            var unknown = await host.LaunchAsync("builtin/send-to-node", version, new JsonObject { ["node"] = "NOPE" });
            Assert.Equal(RunCommandOutcome.Invalid, unknown.Outcome);
            Assert.Contains("no remote node 'NOPE'", unknown.Errors[0]);
            Assert.Contains("STORESCP", unknown.Errors[0]);
            var missing = await host.LaunchAsync("builtin/send-to-node", version);
            Assert.Equal(RunCommandOutcome.Invalid, missing.Outcome);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Zip_export_makes_one_artifact_whose_entries_equal_the_stored_files()
    {
        await using var host = await BuiltInTestHost.StartAsync();
        await host.ProjectAsync("zip");
        var series = await host.SeedSeriesAsync("zip", 3, instances: 2);
        var version = await host.FreezeAsync("zip", series);

        var runId = await host.RunAsync("builtin/zip-export", version);
        var (run, items) = await host.WaitForRunAsync(runId);
        var item = Assert.Single(items);
        Assert.True(run.State == WorkState.Succeeded, item.Error);
        Assert.Equal("dataset", item.ScopeKey);

        var artifact = Assert.Single(await host.Results.ListArtifactsAsync(runId));
        Assert.Equal(ZipExportWorkflow.ArtifactName, artifact.Name);
        var path = host.Results.AbsolutePath(artifact);
        Assert.Equal(new FileInfo(path).Length, artifact.Size);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(path))), artifact.Sha256);

        var stored = new Dictionary<string, string>();
        foreach (var s in series)
            foreach (var (sop, file) in await host.FilesOfSeriesAsync(s)) stored[sop] = file;
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(stored.Count, zip.Entries.Count);
        foreach (var entry in zip.Entries)
        {
            var sop = Path.GetFileNameWithoutExtension(entry.Name);
            Assert.True(stored.ContainsKey(sop), $"unexpected entry {entry.FullName}");
            using var ms = new MemoryStream();
            using (var s = entry.Open()) s.CopyTo(ms);
            var expected = await File.ReadAllBytesAsync(stored[sop]);
            Assert.True(ms.ToArray().AsSpan().SequenceEqual(expected), $"{entry.FullName} differs from the stored file");
        }
        var metrics = Assert.Single((await host.Results.GetMetricsAsync(runId))!.Rows);
        Assert.Equal(6, metrics.Values["instances"]!.GetValue<int>());
    }

    [Fact]
    public async Task Delete_series_removes_the_items_series_files_and_rows_and_leaves_the_others()
    {
        await using var host = await BuiltInTestHost.StartAsync();
        await host.ProjectAsync("del");
        var series = await host.SeedSeriesAsync("del", 3, instances: 2);
        var doomed = series.Take(2).ToList();
        var kept = series[2];
        var doomedFiles = new List<string>();
        foreach (var s in doomed) doomedFiles.AddRange((await host.FilesOfSeriesAsync(s)).Values);
        var keptFiles = (await host.FilesOfSeriesAsync(kept)).Values.ToList();
        Assert.All(doomedFiles.Concat(keptFiles), f => Assert.True(File.Exists(f)));
        var version = await host.FreezeAsync("del", doomed);
        await host.SeedUserAsync("boss", "Admin");
        await host.SeedUserAsync("rita", "Researcher");

        // Only a site Admin or a ProjectAdmin of every project holding the series may delete: a researcher without that role, or a
        // name that is no account, is refused at launch.
        foreach (var who in new[] { "rita", "nobody" })
        {
            var refusedLaunch = await host.LaunchAsync("builtin/delete-series", version, requestedBy: who);
            Assert.Equal(RunCommandOutcome.Invalid, refusedLaunch.Outcome);
            Assert.Contains($"'{who}' may not delete these series", refusedLaunch.Errors[0]);
        }
        Assert.All(doomedFiles, f => Assert.True(File.Exists(f)));

        var runId = await host.RunAsync("builtin/delete-series", version, requestedBy: "boss");
        var (run, items) = await host.WaitForRunAsync(runId);
        Assert.True(run.State == WorkState.Succeeded, string.Join("\n", items.Select(i => i.Error)));
        Assert.Equal(2, items.Count);

        await using (var db = host.CreateDb())
        {
            Assert.False(await db.Series.AnyAsync(s => doomed.Contains(s.SeriesInstanceUID)));
            Assert.False(await db.Instances.AnyAsync(i => doomed.Contains(i.Series.SeriesInstanceUID)));
            Assert.Equal(2, await db.Instances.CountAsync(i => i.Series.SeriesInstanceUID == kept));
        }
        Assert.All(doomedFiles, f => Assert.False(File.Exists(f), f));
        Assert.All(keptFiles, f => Assert.True(File.Exists(f), f));

        // Each item deleted exactly its one series.
        var metrics = (await host.Results.GetMetricsAsync(runId))!;
        Assert.All(metrics.Rows, r => Assert.Equal(1, r.Values["deleted"]!.GetValue<int>()));

        // A series that another project holds too is not deleted from under it.
        var shared = await host.SeedSeriesAsync("del", 1);
        var otherProject = await host.ProjectAsync("other");
        await using (var db = host.CreateDb())
        {
            var seriesId = await db.Series.Where(s => s.SeriesInstanceUID == shared[0]).Select(s => s.Id).FirstAsync();
            db.ProjectSeries.Add(new ProjectSeries { ProjectId = otherProject, SeriesId = seriesId });
            await db.SaveChangesAsync();
        }
        var sharedRun = await host.RunAsync("builtin/delete-series", await host.FreezeAsync("del", shared), requestedBy: "boss");
        var (refused, refusedItems) = await host.WaitForRunAsync(sharedRun);
        Assert.Equal(WorkState.Failed, refused.State);
        Assert.Contains("also in project(s) other", Assert.Single(refusedItems).Error);
        Assert.NotEmpty(await host.FilesOfSeriesAsync(shared[0]));
    }
}

/// <summary>Element-by-element comparison of two data sets (values as bytes, sequences recursively).</summary>
public static class DatasetAssert
{
    public static void Equal(DicomDataset expected, DicomDataset actual, string what)
    {
        var e = expected.Where(x => !x.Tag.IsGroupLength).ToList();
        var a = actual.Where(x => !x.Tag.IsGroupLength).ToList();
        Assert.True(e.Select(x => x.Tag).SequenceEqual(a.Select(x => x.Tag)),
            $"{what}: tags differ: {string.Join(",", e.Select(x => x.Tag).Except(a.Select(x => x.Tag)))} / {string.Join(",", a.Select(x => x.Tag).Except(e.Select(x => x.Tag)))}");
        for (int i = 0; i < e.Count; i++)
        {
            switch (e[i], a[i])
            {
                case (DicomSequence es, DicomSequence @as):
                    Assert.Equal(es.Items.Count, @as.Items.Count);
                    for (int k = 0; k < es.Items.Count; k++) Equal(es.Items[k], @as.Items[k], $"{what} {es.Tag}[{k}]");
                    break;
                case (DicomValueElement ev, DicomValueElement av):
                    Assert.True(ev.VR == av.VR && ev.Span.SequenceEqual(av.Span), $"{what}: {ev.Tag} differs");
                    break;
                default:
                    Assert.Fail($"{what}: {e[i].Tag} is of different kinds");
                    break;
            }
        }
    }
}
