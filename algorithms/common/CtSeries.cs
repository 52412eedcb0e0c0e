using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Codecs;
using Kaapana.Dicom.Imaging.Segmentation;

namespace Kaapana.Algorithms;

/// <summary>
/// A single-frame grey-scale series (CT) as a volume: headers read first to order the slices along their normal
/// (<see cref="SourceGeometry"/>), then one slice at a time decoded and mapped to modality values (HU) through the Modality
/// LUT stage, so memory holds one slice of pixels rather than the series.
/// </summary>
public sealed class CtSeries
{
    private static readonly DicomReadOptions HeaderOnly = new() { StopBeforePixelData = true };
    private readonly IReadOnlyList<string> _paths;

    private CtSeries(SourceGeometry geometry, IReadOnlyList<string> paths, double[] pixelSpacing, double sliceSpacing)
    {
        Geometry = geometry;
        _paths = paths;
        PixelSpacing = pixelSpacing;
        SliceSpacing = sliceSpacing;
    }

    /// <summary>Slices in order along the normal, with the headers a segmentation references.</summary>
    public SourceGeometry Geometry { get; }

    public int Slices => Geometry.Slices.Count;
    public int Rows => Geometry.Rows;
    public int Columns => Geometry.Columns;
    public string SeriesInstanceUid => Geometry.Slices[0].GetString(DicomTags.SeriesInstanceUID);

    /// <summary>Row spacing, column spacing (mm).</summary>
    public double[] PixelSpacing { get; }

    /// <summary>Mean distance between slice centres along the normal (mm); Slice Thickness for a single slice.</summary>
    public double SliceSpacing { get; }

    public double VoxelVolumeMm3 => PixelSpacing[0] * PixelSpacing[1] * SliceSpacing;

    /// <exception cref="AlgorithmInputException">Not one readable single-frame grey-scale series with the geometry a volume needs.</exception>
    public static CtSeries Open(string directory)
    {
        var files = Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new AlgorithmInputException($"{directory} holds no files");
        var headers = new List<DicomDataset>(files.Count);
        var pathByUid = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in files)
        {
            DicomDataset ds;
            try
            {
                ds = DicomFile.Open(path, HeaderOnly).Dataset;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new AlgorithmInputException($"{path} is not a readable DICOM file: {e.Message}");
            }
            var sop = ds.GetString(DicomTags.SOPInstanceUID);
            if (sop.Length == 0) throw new AlgorithmInputException($"{path} has no SOP Instance UID");
            if (!pathByUid.TryAdd(sop, path)) throw new AlgorithmInputException($"{path} repeats SOP Instance UID {sop}");
            Check(ds, path, headers.Count > 0 ? headers[0] : null);
            headers.Add(ds);
        }

        SourceGeometry geometry;
        try
        {
            geometry = SourceGeometry.FromInstances(headers);
        }
        catch (DicomException e)
        {
            throw new AlgorithmInputException($"{directory}: {e.Message}");
        }
        var spacing = headers[0].GetValues<double>(DicomTags.PixelSpacing);
        if (spacing.Length != 2 || spacing.Any(s => !(s > 0) || !double.IsFinite(s)))
            throw new AlgorithmInputException($"{directory}: Pixel Spacing is missing or invalid");
        var distances = geometry.Distances;
        for (int i = 1; i < distances.Length; i++)
            if (distances[i] - distances[i - 1] < 1e-4)
                throw new AlgorithmInputException($"{directory}: two slices share the position {distances[i]:0.###} mm along the normal");
        double sliceSpacing = distances.Length > 1
            ? (distances[^1] - distances[0]) / (distances.Length - 1)
            : headers[0].TryGet<double>(DicomTags.SliceThickness, out var t) && t > 0 ? t
            : throw new AlgorithmInputException($"{directory}: a single slice without Slice Thickness has no volume");
        var paths = geometry.Slices.Select(s => pathByUid[s.GetString(DicomTags.SOPInstanceUID)]).ToList();
        return new CtSeries(geometry, paths, spacing, sliceSpacing);
    }

    private static void Check(DicomDataset ds, string path, DicomDataset? first)
    {
        if (ds.GetOrDefault(DicomTags.NumberOfFrames, 1) != 1)
            throw new AlgorithmInputException($"{path} is a multi-frame image; this algorithm reads single-frame slices (e.g. CT Image Storage)");
        if (ds.GetOrDefault(DicomTags.SamplesPerPixel, 1) != 1 || !PhotometricInterpretation.IsMonochrome(ds.GetString(DicomTags.PhotometricInterpretation).Trim()))
            throw new AlgorithmInputException($"{path} is not a grey-scale image");
        if (!ds.Contains(DicomTags.Rows) || !ds.Contains(DicomTags.Columns))
            throw new AlgorithmInputException($"{path} has no pixel data description (Rows, Columns)");
        if (first is null) return;
        foreach (var tag in new[] { DicomTags.SeriesInstanceUID, DicomTags.FrameOfReferenceUID })
            if (ds.GetString(tag) != first.GetString(tag))
                throw new AlgorithmInputException($"{path} differs from the other files in {DicomDictionary.Lookup(tag)?.Keyword ?? tag.ToString()}: one folder must hold one series");
    }

    /// <summary>Calls <paramref name="visit"/> for each slice in order along the normal with its modality values, row-major.</summary>
    /// <exception cref="AlgorithmInputException">A slice cannot be read or decoded.</exception>
    public void ForEachSlice(Action<int, ReadOnlySpan<double>> visit)
    {
        var values = new double[Rows * Columns];
        for (int i = 0; i < _paths.Count; i++)
        {
            ReadSlice(_paths[i], values);
            visit(i, values);
        }
    }

    private void ReadSlice(string path, double[] values)
    {
        try
        {
            var file = DicomFile.Open(path);
            var pixels = DicomPixelData.Create(file);
            var frame = DicomCodecs.Default.DecodeFrame(pixels, 0);
            if (frame.Info.Rows != Rows || frame.Info.Columns != Columns) throw new AlgorithmInputException($"{path}: its image size differs from the series");
            ModalityValues.Fill(frame.Data, frame.Info, ModalityTransform.For(file.Dataset), values);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not AlgorithmInputException)
        {
            throw new AlgorithmInputException($"{path}: pixel data cannot be read: {e.Message}");
        }
    }
}
