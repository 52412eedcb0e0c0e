using System.Globalization;
using System.Text;
using Kaapana.Algorithms;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging.Segmentation;

// threshold-seg: for each series under /input, the voxels whose modality value (HU) lies within [lower, upper] become
// one binary DICOM SEG in /output/<series>/seg.dcm, referencing the source series and the slices it covers.
// Exit codes: 0 done, 2 bad parameters or input (message on stderr), 1 anything unexpected.
const string Name = "threshold-seg";
var version = typeof(Program).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";

return AlgorithmExit.Run(Name, () =>
{
    var input = AlgorithmInput.Read(args);
    double lower = input.Number("lower", -200), upper = input.Number("upper", 200);
    var label = input.Text("label", "Threshold").Trim();
    if (lower > upper) throw new AlgorithmInputException($"parameter 'lower' ({lower}) is above 'upper' ({upper})");
    if (label.Length is 0 or > 64) throw new AlgorithmInputException("parameter 'label' must be 1 to 64 characters");
    if (input.Items.Count == 0) throw new AlgorithmInputException($"{input.InputDirectory} holds no series folders");
    string range = string.Create(CultureInfo.InvariantCulture, $"[{lower}, {upper}] HU");
    Console.WriteLine($"{Name} {version}: {input.Items.Count} series, voxels within {range} as '{label}'");

    int written = 0;
    foreach (var item in input.Items)
    {
        var series = CtSeries.Open(item.Directory);
        Console.WriteLine($"{Name}: {item.Name}: {series.Slices} slices of {series.Columns}x{series.Rows}");
        var labels = new LabelVolume(series.Slices, series.Rows, series.Columns);
        long voxels = 0;
        int sliceLength = series.Rows * series.Columns;
        series.ForEachSlice((slice, hu) =>
        {
            var mask = labels.Data.AsSpan(slice * sliceLength, sliceLength);
            for (int i = 0; i < hu.Length; i++)
            {
                if (hu[i] >= lower && hu[i] <= upper)
                {
                    mask[i] = 1;
                    voxels++;
                }
            }
        });
        double ml = voxels * series.VoxelVolumeMm3 / 1000;
        if (voxels == 0)
        {
            // A SEG needs at least one frame: an empty result is reported, not written.
            Console.WriteLine($"{Name}: {item.Name}: no voxel within {range}; no segmentation written");
            continue;
        }

        // Same source, parameters and run → same UIDs (a re-execution rewrites the same instances); another run → new ones.
        string[] identity = [Name, version, input.RunId ?? "", series.SeriesInstanceUid,
            lower.ToString("R", CultureInfo.InvariantCulture), upper.ToString("R", CultureInfo.InvariantCulture), label];
        var segment = new SegmentDescription
        {
            Number = 1,
            Label = label,
            Description = $"Voxels within {range}",
            Category = CodedConcept.Tissue,
            Type = CodedConcept.Tissue,
            AlgorithmType = SegmentAlgorithmType.Automatic,
            // Thresholding is histogram analysis in CID 7162 (Surface Processing Algorithm Families).
            Algorithm = new AlgorithmIdentification(Name, version, new CodedConcept("123105", "DCM", "Histogram Analysis"),
                string.Create(CultureInfo.InvariantCulture, $"lower={lower};upper={upper}")),
            RecommendedDisplayCieLab = CieLab.FromRgb(230, 80, 40),
        };
        var seg = DicomSegmentation.CreateBinary(series.Geometry, labels, [segment], new SegmentationOptions
        {
            SeriesInstanceUid = DerivedUid.From([.. identity, "series"]),
            SopInstanceUid = DerivedUid.From([.. identity, "instance"]),
            SeriesDescription = Truncate($"{label} {range}", 64),
            ContentLabel = ContentLabel(label),
            ContentDescription = Truncate($"{Name}: voxels within {range}", 64),
            ManufacturerModelName = Name,
            SoftwareVersions = version,
        });
        // The dimension organization is an identifier too: derived like the others, so the output depends on its input only.
        var organization = DerivedUid.From([.. identity, "dimensions"]);
        seg.Dataset.GetSequence(DicomTags.DimensionOrganizationSequence).Items[0].Set(DicomTags.DimensionOrganizationUID, organization);
        foreach (var dimension in seg.Dataset.GetSequence(DicomTags.DimensionIndexSequence).Items)
            dimension.Set(DicomTags.DimensionOrganizationUID, organization);

        var outDir = Path.Combine(input.OutputDirectory, item.Name);
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, "seg.dcm");
        var partial = path + ".partial";
        seg.Save(partial);
        File.Move(partial, path, overwrite: true);
        written++;
        var frames = seg.Dataset.GetOrDefault(DicomTags.NumberOfFrames, 0);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {item.Name}: {voxels} voxels ({ml:0.###} ml) in {frames} frames -> {Path.GetRelativePath(input.OutputDirectory, path)}"));
    }
    Console.WriteLine($"{Name}: done, {written} segmentation(s) written for {input.Items.Count} series");
    return 0;
});

// Content Label is a CS: upper-case letters, digits, space and '_', at most 16 characters.
static string ContentLabel(string label)
{
    var sb = new StringBuilder();
    foreach (var c in label.ToUpperInvariant())
        if (sb.Length < 16) sb.Append(c is >= 'A' and <= 'Z' or >= '0' and <= '9' or ' ' or '_' ? c : '_');
    var text = sb.ToString().Trim();
    return text.Length > 0 ? text : "THRESHOLD";
}

static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];

public partial class Program;
