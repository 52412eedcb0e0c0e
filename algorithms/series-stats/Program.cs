using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Algorithms;

// series-stats: for each series under /input, voxel count, HU mean / standard deviation / min / max and volume (ml) of
// the whole volume, written to /output/<series>/metrics.json; /output/metrics.json holds the item's row for the
// engine's metrics table (one flat object: the series' figures, or all voxels of the item's series pooled).
// Exit codes: 0 done, 2 bad input (message on stderr), 1 anything unexpected.
const string Name = "series-stats";
var version = typeof(Program).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";
var json = new JsonSerializerOptions { WriteIndented = true };

return await AlgorithmExit.RunAsync(Name, async () =>
{
    var input = AlgorithmInput.Read(args);
    if (input.Items.Count == 0) throw new AlgorithmInputException($"{input.InputDirectory} holds no series folders");
    Console.WriteLine($"{Name} {version}: {input.Items.Count} series");
    var total = new Moments();
    double totalMl = 0;
    foreach (var item in input.Items)
    {
        var series = CtSeries.Open(item.Directory);
        var moments = new Moments();
        series.ForEachSlice((_, hu) => moments.AddRange(hu));
        double ml = moments.Count * series.VoxelVolumeMm3 / 1000;
        total.Merge(moments);
        totalMl += ml;

        var metrics = Row(moments, ml);
        metrics["seriesInstanceUID"] = series.SeriesInstanceUid;
        metrics["slices"] = series.Slices;
        metrics["rows"] = series.Rows;
        metrics["columns"] = series.Columns;
        metrics["voxelVolumeMm3"] = series.VoxelVolumeMm3;
        var outDir = Path.Combine(input.OutputDirectory, item.Name);
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "metrics.json"), metrics.ToJsonString(json));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {item.Name}: {moments.Count} voxels, HU mean {moments.Mean:0.###} std {moments.StandardDeviation:0.###} min {moments.Min:0.###} max {moments.Max:0.###}, {ml:0.###} ml"));
    }

    var row = Row(total, totalMl);
    row["series"] = input.Items.Count;
    await File.WriteAllTextAsync(Path.Combine(input.OutputDirectory, "metrics.json"), row.ToJsonString(json));
    Console.WriteLine($"{Name}: done, metrics.json written");
    return 0;
});

static JsonObject Row(Moments m, double ml) => new()
{
    ["voxelCount"] = m.Count,
    ["huMean"] = m.Mean,
    ["huStd"] = m.StandardDeviation,
    ["huMin"] = m.Min,
    ["huMax"] = m.Max,
    ["volumeMl"] = ml,
};

public partial class Program;
