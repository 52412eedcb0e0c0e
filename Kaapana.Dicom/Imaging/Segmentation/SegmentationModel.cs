namespace Kaapana.Dicom.Imaging.Segmentation;

/// <summary>A coded concept (Code Sequence Macro, PS3.3 Table 8.8-1).</summary>
public sealed record CodedConcept(string CodeValue, string CodingSchemeDesignator, string CodeMeaning)
{
    public DicomDataset ToItem()
    {
        var item = new DicomDataset();
        item.Set(DicomTags.CodeValue, CodeValue);
        item.Set(DicomTags.CodingSchemeDesignator, CodingSchemeDesignator);
        item.Set(DicomTags.CodeMeaning, CodeMeaning);
        return item;
    }

    public static CodedConcept? FromSequence(DicomDataset ds, DicomTag sequence) =>
        ds.TryGetSequence(sequence, out var sq) && sq.Items.Count > 0
            ? new CodedConcept(sq.Items[0].GetString(DicomTags.CodeValue), sq.Items[0].GetString(DicomTags.CodingSchemeDesignator), sq.Items[0].GetString(DicomTags.CodeMeaning))
            : null;

    // A few concepts from CID 7150 / 7151 / 7162 (SNOMED CT and DCM) used often enough to name.
    public static readonly CodedConcept Tissue = new("85756007", "SCT", "Tissue");
    public static readonly CodedConcept AnatomicalStructure = new("123037004", "SCT", "Anatomical Structure");
    public static readonly CodedConcept MorphologicallyAbnormalStructure = new("49755003", "SCT", "Morphologically Abnormal Structure");
    public static readonly CodedConcept Organ = new("113343008", "SCT", "Organ");
    public static readonly CodedConcept Liver = new("10200004", "SCT", "Liver");
    public static readonly CodedConcept Tumor = new("108369006", "SCT", "Tumor");
    public static readonly CodedConcept ArtificialIntelligence = new("123110", "DCM", "Artificial Intelligence");
    public static readonly CodedConcept ManualProcessing = new("123109", "DCM", "Manual Processing");
}

/// <summary>Segment Algorithm Type (0062,0008).</summary>
public enum SegmentAlgorithmType
{
    Automatic,
    Semiautomatic,
    Manual,
}

/// <summary>The algorithm that produced a segment (Algorithm Identification Macro, PS3.3 Table 10-19).</summary>
public sealed record AlgorithmIdentification(string Name, string Version, CodedConcept Family, string? Parameters = null);

/// <summary>One segment of a segmentation (an item of Segment Sequence, PS3.3 C.8.20.2).</summary>
public sealed record SegmentDescription
{
    /// <summary>1..n; also the label value in a <see cref="LabelVolume"/>.</summary>
    public required int Number { get; init; }
    public required string Label { get; init; }
    public string? Description { get; init; }
    public required CodedConcept Category { get; init; }
    public required CodedConcept Type { get; init; }
    public SegmentAlgorithmType AlgorithmType { get; init; } = SegmentAlgorithmType.Automatic;
    /// <summary>Required unless the segment is MANUAL.</summary>
    public AlgorithmIdentification? Algorithm { get; init; }
    /// <summary>Recommended Display CIELab Value (0062,000D): L*, a*, b* scaled to 0..65535 (see <see cref="CieLab.FromRgb"/>).</summary>
    public ushort[]? RecommendedDisplayCieLab { get; init; }
    public CodedConcept? AnatomicRegion { get; init; }
}

/// <summary>Segmentation Type (0062,0001).</summary>
public enum SegmentationType
{
    Binary,
    Fractional,
}

/// <summary>
/// A label volume aligned with a source series: one value per voxel, slice-major in the series' order along the slice
/// normal (see <see cref="SourceGeometry"/>), row-major within a slice; value = segment number, 0 = background.
/// </summary>
public sealed class LabelVolume
{
    public LabelVolume(int slices, int rows, int columns, ushort[]? data = null)
    {
        if (slices <= 0 || rows <= 0 || columns <= 0) throw new ArgumentException("Empty volume.");
        Slices = slices;
        Rows = rows;
        Columns = columns;
        Data = data ?? new ushort[(long)slices * rows * columns];
        if (Data.LongLength != (long)slices * rows * columns) throw new ArgumentException("Data does not match the volume size.", nameof(data));
    }

    public int Slices { get; }
    public int Rows { get; }
    public int Columns { get; }
    public ushort[] Data { get; }

    public ushort this[int slice, int row, int column]
    {
        get => Data[((long)slice * Rows + row) * Columns + column];
        set => Data[((long)slice * Rows + row) * Columns + column] = value;
    }

    public int SliceLength => Rows * Columns;
}

/// <summary>sRGB to DICOM-scaled CIELab (PS3.3 C.10.7.1.1: L* 0..100 → 0..FFFF, a*/b* -128..127 → 0..FFFF), D65 white.</summary>
public static class CieLab
{
    public static ushort[] FromRgb(byte red, byte green, byte blue)
    {
        static double Linear(byte c)
        {
            double v = c / 255.0;
            return v <= 0.04045 ? v / 12.92 : Math.Pow((v + 0.055) / 1.055, 2.4);
        }
        double r = Linear(red), g = Linear(green), b = Linear(blue);
        double x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
        double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
        double z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
        static double F(double t) => t > 216.0 / 24389 ? Math.Cbrt(t) : (24389.0 / 27 * t + 16) / 116;
        double l = 116 * F(y) - 16, a = 500 * (F(x) - F(y)), bb = 200 * (F(y) - F(z));
        return
        [
            (ushort)Math.Clamp(Math.Round(l * 65535 / 100), 0, 65535),
            (ushort)Math.Clamp(Math.Round((a + 128) * 65535 / 255), 0, 65535),
            (ushort)Math.Clamp(Math.Round((bb + 128) * 65535 / 255), 0, 65535),
        ];
    }
}

/// <summary>The slices of a source series ordered along their normal, with the geometry a segmentation needs.</summary>
public sealed class SourceGeometry
{
    private SourceGeometry(IReadOnlyList<DicomDataset> slices, double[] orientation, double[][] positions, double[] normal, double[] distances)
    {
        Slices = slices;
        Orientation = orientation;
        Positions = positions;
        Normal = normal;
        Distances = distances;
    }

    /// <summary>Source instances (headers suffice) in order along the normal.</summary>
    public IReadOnlyList<DicomDataset> Slices { get; }
    public double[] Orientation { get; }
    public double[][] Positions { get; }
    public double[] Normal { get; }
    /// <summary>Position of each slice along the normal.</summary>
    public double[] Distances { get; }
    public int Rows => Slices[0].Get<int>(DicomTags.Rows);
    public int Columns => Slices[0].Get<int>(DicomTags.Columns);

    /// <summary>Sorts <paramref name="instances"/> along the slice normal; all must share size, orientation and frame of reference.</summary>
    public static SourceGeometry FromInstances(IEnumerable<DicomDataset> instances)
    {
        var list = instances.ToList();
        if (list.Count == 0) throw new ArgumentException("No source instances.", nameof(instances));
        var orientation = list[0].GetValues<double>(DicomTags.ImageOrientationPatient);
        if (orientation.Length != 6) throw new DicomPixelDataException("Source images need Image Orientation (Patient).");
        var normal = Geometry.Cross(orientation.AsSpan(0, 3), orientation.AsSpan(3, 3));
        var items = list.Select(ds =>
        {
            var p = ds.GetValues<double>(DicomTags.ImagePositionPatient);
            if (p.Length != 3) throw new DicomPixelDataException("Source images need Image Position (Patient).");
            if (ds.Get<int>(DicomTags.Rows) != list[0].Get<int>(DicomTags.Rows) || ds.Get<int>(DicomTags.Columns) != list[0].Get<int>(DicomTags.Columns))
                throw new DicomPixelDataException("Source images differ in size.");
            return (ds, p, d: Geometry.Dot(p, normal));
        }).OrderBy(x => x.d).ToList();
        return new SourceGeometry(items.Select(x => x.ds).ToList(), orientation, items.Select(x => x.p).ToArray(), normal, items.Select(x => x.d).ToArray());
    }

    /// <summary>The slice whose position along the normal is nearest to <paramref name="position"/>, if within half a slice gap.</summary>
    public int? SliceAt(double[] position)
    {
        double d = Geometry.Dot(position, Normal);
        int best = -1;
        double bestDelta = double.MaxValue;
        for (int i = 0; i < Distances.Length; i++)
        {
            double delta = Math.Abs(Distances[i] - d);
            if (delta < bestDelta) { bestDelta = delta; best = i; }
        }
        double gap = Distances.Length > 1 ? Math.Abs(Distances[^1] - Distances[0]) / (Distances.Length - 1) : 1;
        return bestDelta <= Math.Max(gap / 2, 1e-3) ? best : null;
    }
}
