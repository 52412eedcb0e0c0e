using Kaapana.Core.Workflows.Docker;
using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Imaging;
using Kaapana.Tests.Workflows.Docker;

namespace Kaapana.Tests.Workflows.Algorithms;

/// <summary>The sample algorithm images (algorithms/threshold-seg, algorithms/series-stats) and what the tests check them with.</summary>
public static class AlgorithmImages
{
    public const string ThresholdSeg = "kaapana/threshold-seg:latest";
    public const string SeriesStats = "kaapana/series-stats:latest";

    /// <summary>The image's info; a missing image fails naming the script that builds it.</summary>
    public static async Task<ContainerImageInfo> RequireAsync(IContainerRunner runner, DockerTestEngine engine, string image) =>
        await runner.InspectImageAsync(image)
        ?? throw new InvalidOperationException($"Image {image} is missing on {engine.Endpoint}: build it with algorithms/build-images.sh {engine.Endpoint} (scripts/test.sh does).");

    /// <summary>Runs the image on a work folder as the engine would: contract defaults (read-only root, non-root user, no network).</summary>
    public static async Task<ContainerRunResult> RunAsync(DockerTestEngine engine, WorkFolder work, string image, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var runner = engine.NewRunner();
        await RequireAsync(runner, engine, image);
        var spec = work.Spec(image) with { Environment = environment ?? new Dictionary<string, string>(), Timeout = TimeSpan.FromMinutes(5) };
        Assert.True(spec.ReadOnlyRootFilesystem && !spec.NetworkAccess, "the tests run algorithms under the container contract");
        return await runner.RunAsync(spec);
    }

    /// <summary>dciodvfy's findings; the test fails on any error.</summary>
    public static void AssertValidIod(string path)
    {
        var result = ImagingTools.Run("dciodvfy", path);
        var lines = result.Stderr.Split('\n').Concat(result.Text.Split('\n')).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        var errors = lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, $"dciodvfy {path}:\n{string.Join('\n', lines)}");
    }

    /// <summary>The source instances' headers as the algorithm saw them (for <see cref="Kaapana.Dicom.Imaging.Segmentation.SourceGeometry"/>).</summary>
    public static List<DicomDataset> ReadSeries(string folder) =>
        Directory.EnumerateFiles(folder).Select(f => DicomFile.Open(f).Dataset).ToList();
}
