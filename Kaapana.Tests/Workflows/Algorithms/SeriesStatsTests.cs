using System.Text.Json.Nodes;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Core.Workflows.Manifest;
using Kaapana.Tests.Workflows.Docker;

namespace Kaapana.Tests.Workflows.Algorithms;

/// <summary>
/// algorithms/series-stats as a container: its metrics against figures computed here from the phantom's HU values
/// (plain two-pass sums over the known voxels, not the algorithm's one-pass method).
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class SeriesStatsTests(DockerTestEngine engine)
{
    private sealed record Expected(long Count, double Mean, double Std, double Min, double Max, double VolumeMl);

    private static Expected Compute(IEnumerable<(int[] Hu, double VoxelMm3)> volumes)
    {
        var all = volumes.ToList();
        long count = all.Sum(v => (long)v.Hu.Length);
        double mean = all.Sum(v => v.Hu.Sum(h => (double)h)) / count;
        double variance = all.Sum(v => v.Hu.Sum(h => (h - mean) * (h - mean))) / count;
        return new Expected(count, mean, Math.Sqrt(variance), all.Min(v => v.Hu.Min()), all.Max(v => v.Hu.Max()),
            all.Sum(v => v.Hu.Length * v.VoxelMm3) / 1000);
    }

    private static void AssertMetrics(Expected expected, JsonObject actual, string what)
    {
        Assert.True(expected.Count == actual["voxelCount"]!.GetValue<long>(), $"{what}: voxelCount {actual["voxelCount"]}, expected {expected.Count}");
        void Close(double e, string name) =>
            Assert.True(Math.Abs(e - actual[name]!.GetValue<double>()) <= 1e-9 * Math.Max(1, Math.Abs(e)), $"{what}: {name} {actual[name]}, expected {e}");
        Close(expected.Mean, "huMean");
        Close(expected.Std, "huStd");
        Close(expected.Min, "huMin");
        Close(expected.Max, "huMax");
        Close(expected.VolumeMl, "volumeMl");
    }

    [Fact]
    public async Task Metrics_of_three_ct_series_match_values_computed_from_their_voxels()
    {
        using var work = new WorkFolder();
        var phantom = CtPhantomInput.ThreeSeries();
        CtPhantomInput.Stage(work.Input, phantom, []);

        var result = await AlgorithmImages.RunAsync(engine, work, AlgorithmImages.SeriesStats);

        Assert.True(result.Outcome == ContainerOutcome.Succeeded, $"{result.Outcome} ({result.ExitCode}): {result.Logs.Text()}");
        var stdout = result.Logs.Text(ContainerLogStream.Stdout);
        foreach (var series in phantom)
        {
            var expected = Compute([(series.Hu, series.VoxelVolumeMm3)]);
            var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(work.Output, series.SeriesUid, "metrics.json")))!.AsObject();
            AssertMetrics(expected, metrics, series.SeriesUid);
            Assert.Equal(series.SeriesUid, metrics["seriesInstanceUID"]!.GetValue<string>());
            Assert.Equal(series.Slices, metrics["slices"]!.GetValue<int>());
            Assert.Contains($"{series.SeriesUid}: {expected.Count} voxels", stdout);
        }

        // The item's row for the engine's metrics table: flat, all three series pooled.
        var row = JsonNode.Parse(File.ReadAllText(Path.Combine(work.Output, "metrics.json")))!.AsObject();
        AssertMetrics(Compute(phantom.Select(s => (s.Hu, s.VoxelVolumeMm3))), row, "pooled");
        Assert.Equal(3, row["series"]!.GetValue<int>());
        Assert.All(row, p => Assert.True(p.Value is JsonValue, $"metrics.json must be flat: {p.Key}"));
    }

    [Fact]
    public async Task One_series_per_container_gives_its_own_figures_as_the_row()
    {
        using var work = new WorkFolder();
        var series = CtPhantomInput.ThreeSeries()[1];
        CtPhantomInput.Stage(work.Input, [series], []);

        var result = await AlgorithmImages.RunAsync(engine, work, AlgorithmImages.SeriesStats);

        Assert.True(result.Outcome == ContainerOutcome.Succeeded, result.Logs.Text());
        var row = JsonNode.Parse(File.ReadAllText(Path.Combine(work.Output, "metrics.json")))!.AsObject();
        AssertMetrics(Compute([(series.Hu, series.VoxelVolumeMm3)]), row, "row");
        // 32 x 48 x 12 voxels of 1.0 x 0.9 x 2.0 mm.
        Assert.Equal(32 * 48 * 12 * 1.8 / 1000, row["volumeMl"]!.GetValue<double>(), 9);
    }

    [Fact]
    public async Task A_series_with_two_frames_of_reference_fails_with_a_clear_message()
    {
        using var work = new WorkFolder();
        var phantom = CtPhantomInput.ThreeSeries();
        CtPhantomInput.Stage(work.Input, [phantom[0]], []);
        // A slice of another series' frame of reference slipped into the folder.
        var stranger = phantom[0].Instance(0, 1);
        stranger.Set(Kaapana.Dicom.DicomTags.SOPInstanceUID, Kaapana.Tests.Archive.TestInstances.NewUid());
        stranger.Set(Kaapana.Dicom.DicomTags.FrameOfReferenceUID, Kaapana.Tests.Archive.TestInstances.NewUid());
        File.WriteAllBytes(Path.Combine(work.Input, "series", phantom[0].SeriesUid, "zz-stranger.dcm"), Kaapana.Tests.Archive.TestInstances.ToBytes(stranger));

        var result = await AlgorithmImages.RunAsync(engine, work, AlgorithmImages.SeriesStats);

        Assert.Equal(ContainerOutcome.Failed, result.Outcome);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("zz-stranger.dcm differs from the other files in FrameOfReferenceUID", result.Logs.Text(ContainerLogStream.Stderr));
        Assert.False(File.Exists(Path.Combine(work.Output, "metrics.json")));
    }

    [Fact]
    public async Task Image_carries_a_manifest_declaring_metrics()
    {
        using var runner = engine.NewRunner();
        var image = await AlgorithmImages.RequireAsync(runner, engine, AlgorithmImages.SeriesStats);

        var parsed = ManifestParser.Parse(image.AlgorithmManifestJson ?? "");

        Assert.True(parsed.IsValid, string.Join("; ", parsed.Errors));
        Assert.Equal("series-stats", parsed.Manifest!.Name);
        Assert.Contains(OutputKind.Metrics, parsed.Manifest.Outputs);
    }
}
