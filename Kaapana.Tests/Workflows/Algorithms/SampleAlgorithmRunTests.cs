using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Storage;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging.Segmentation;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Workflows.Docker;
using Kaapana.Tests.Workflows.Engine;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Workflows.Algorithms;

/// <summary>
/// The sample algorithms through the whole engine (issue 8 acceptance): a 3-series CT dataset in the archive → registered
/// image (manifest from its label) → run → 3 SEG series in the archive with provenance, dciodvfy clean, masks as computed
/// here; a re-run is accepted with new series; series-stats fills the run's metrics table with the figures computed here.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class SampleAlgorithmRunTests(DockerTestEngine docker)
{
    private static async Task<long> SeedPhantomAsync(WorkflowTestHost host, IReadOnlyList<CtPhantomSeries> phantom)
    {
        var ingest = host.Services.GetRequiredService<IIngestService>();
        for (int s = 0; s < phantom.Count; s++)
            for (int z = 0; z < phantom[s].Slices; z++)
            {
                using var ms = new MemoryStream(TestInstances.ToBytes(phantom[s].Instance(z, s + 1)));
                var result = await ingest.IngestAsync(ms, IngestContext.Default);
                Assert.True(result.IsSuccess, result.Reason);
            }
        var project = await host.Projects.FindProjectAsync("default") ?? throw new InvalidOperationException("no default project");
        var dataset = await host.Projects.CreateDatasetAsync(project.Id, "phantom-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(phantom.Count, await host.Projects.AddSeriesToDatasetAsync(dataset.Id, phantom.Select(p => p.SeriesUid).ToList()));
        return (await host.Projects.FreezeAsync(dataset.Id)).Id;
    }

    [Fact]
    public async Task Threshold_seg_on_a_three_series_dataset_yields_three_seg_series_with_provenance_and_a_rerun_adds_new_ones()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        await AlgorithmImages.RequireAsync(host.Runner, docker, AlgorithmImages.ThresholdSeg);
        var phantom = CtPhantomInput.ThreeSeries();
        var version = await SeedPhantomAsync(host, phantom);
        var algorithm = await host.RegisterAsync(AlgorithmImages.ThresholdSeg, null);

        var runId = await host.CreateRunAsync(algorithm.Id, version, new JsonObject { ["lower"] = -150, ["upper"] = 150, ["label"] = "Soft tissue" });
        var (run, items) = await host.WaitForRunAsync(runId, TimeSpan.FromMinutes(5));

        Assert.True(run.State == WorkState.Succeeded, string.Join("\n", items.Select(i => $"{i.ScopeKey}: {i.State} {i.Error}")));
        Assert.Equal(phantom.Select(p => p.SeriesUid).Order(StringComparer.Ordinal), items.Select(i => i.ScopeKey).Order(StringComparer.Ordinal));
        var derived = await host.Results.ListDerivedSeriesAsync(runId);
        Assert.Equal(3, derived.Count);
        var storage = host.Services.GetRequiredService<IArchiveStorage>();
        using var temp = new Kaapana.Tests.Dicom.Imaging.ImagingTools.TempDir();
        await using var db = host.CreateDb();
        foreach (var link in derived)
        {
            var provenance = (await host.Results.GetProvenanceAsync(link.SeriesInstanceUID))!;
            var source = phantom.Single(p => p.SeriesUid == provenance["sourceSeriesInstanceUIDs"]!.AsArray().Single()!.GetValue<string>());
            Assert.Equal("threshold-seg", provenance["algorithm"]!["name"]!.GetValue<string>());
            Assert.Equal(algorithm.ImageDigest, provenance["algorithm"]!["imageDigest"]!.GetValue<string>());
            Assert.Equal(-150, provenance["parameters"]!["lower"]!.GetValue<double>());
            Assert.Equal(source.SopUids.Order(StringComparer.Ordinal), provenance["input"]!["sopInstanceUIDs"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));

            var series = await db.Series.Include(s => s.Instances).Include(s => s.Study).SingleAsync(s => s.SeriesInstanceUID == link.SeriesInstanceUID);
            Assert.Equal("SEG", series.Modality);
            Assert.Equal(source.StudyUid, series.Study.StudyInstanceUID);
            var instance = Assert.Single(series.Instances);
            Assert.Equal(IngestSource.Algorithm, instance.Source);
            var path = Path.Combine(temp.Path, link.SeriesInstanceUID + ".dcm");
            await using (var stream = storage.OpenRead(instance.StoragePath))
            await using (var file = File.Create(path))
                await stream.CopyToAsync(file);
            AlgorithmImages.AssertValidIod(path);
            var seg = DicomFile.Open(path);
            Assert.Equal(source.SeriesUid, seg.Dataset.GetSequence(DicomTags.ReferencedSeriesSequence).Items.Single().GetString(DicomTags.SeriesInstanceUID));
            var geometry = SourceGeometry.FromInstances(Enumerable.Range(0, source.Slices).Select(z => source.Instance(z, 1)));
            Assert.Equal(source.ExpectedMask(-150, 150), DicomSegmentation.Read(seg, geometry).Masks[1]);
        }

        // The same settings again: derived UIDs include the run, so the archive takes three more series.
        var rerun = await host.Runs.RerunAsync(runId, "test");
        Assert.True(rerun.RunId is not null, string.Join("; ", rerun.Errors));
        var (again, againItems) = await host.WaitForRunAsync(rerun.RunId.Value, TimeSpan.FromMinutes(5));
        Assert.True(again.State == WorkState.Succeeded, string.Join("\n", againItems.Select(i => $"{i.ScopeKey}: {i.State} {i.Error}")));
        var second = await host.Results.ListDerivedSeriesAsync(again.Id);
        Assert.Equal(3, second.Count);
        Assert.Empty(second.Select(d => d.SeriesInstanceUID).Intersect(derived.Select(d => d.SeriesInstanceUID)));
        Assert.Empty(await host.ContainersAsync());
    }

    [Fact]
    public async Task Series_stats_metrics_table_matches_values_computed_from_the_voxels()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        await AlgorithmImages.RequireAsync(host.Runner, docker, AlgorithmImages.SeriesStats);
        var phantom = CtPhantomInput.ThreeSeries();
        var version = await SeedPhantomAsync(host, phantom);
        var algorithm = await host.RegisterAsync(AlgorithmImages.SeriesStats, null);

        var runId = await host.CreateRunAsync(algorithm.Id, version);
        var (run, items) = await host.WaitForRunAsync(runId, TimeSpan.FromMinutes(5));

        Assert.True(run.State == WorkState.Succeeded, string.Join("\n", items.Select(i => $"{i.ScopeKey}: {i.State} {i.Error}")));
        var table = (await host.Results.GetMetricsAsync(runId))!;
        Assert.Equal(3, table.Rows.Count);
        foreach (var row in table.Rows)
        {
            var source = phantom.Single(p => p.SeriesUid == row.ItemKey);
            // Two-pass figures over the phantom's known HU values.
            double mean = source.Hu.Average(h => (double)h);
            double std = Math.Sqrt(source.Hu.Sum(h => (h - mean) * (h - mean)) / source.Hu.Length);
            Assert.Equal(source.Hu.Length, row.Values["voxelCount"]!.GetValue<long>());
            Assert.Equal(mean, row.Values["huMean"]!.GetValue<double>(), 9);
            Assert.Equal(std, row.Values["huStd"]!.GetValue<double>(), 9);
            Assert.Equal(source.Hu.Min(), row.Values["huMin"]!.GetValue<double>());
            Assert.Equal(source.Hu.Max(), row.Values["huMax"]!.GetValue<double>());
            Assert.Equal(source.Hu.Length * source.VoxelVolumeMm3 / 1000, row.Values["volumeMl"]!.GetValue<double>(), 9);
        }
        // Per-series metrics.json files are kept as artifacts.
        Assert.Equal(3, (await host.Results.ListArtifactsAsync(runId)).Count(a => a.Name.EndsWith("/metrics.json", StringComparison.Ordinal)));
    }
}
