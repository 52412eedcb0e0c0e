using Kaapana.Dicom.Imaging.Codecs;

namespace Kaapana.Dicom.Imaging.Rendering;

/// <summary>Options for a thumbnail: a box to fit into and the output format.</summary>
public sealed record ThumbnailOptions
{
    public int MaxWidth { get; init; } = 128;
    public int MaxHeight { get; init; } = 128;
    public ImageFormat Format { get; init; } = ImageFormat.Png;
    /// <summary>zlib level for PNG; 1 is the fast path.</summary>
    public int PngZlibLevel { get; init; } = 1;
    public int JpegQuality { get; init; } = 85;
    /// <summary>An explicit window; otherwise the file's window or min/max.</summary>
    public VoiWindow? Window { get; init; }
}

/// <summary>Thumbnails: of one instance (its middle frame) or of a series (its middle image).</summary>
public static class SeriesThumbnail
{
    /// <summary>
    /// The middle image of a series given as instance files: sorted along the slice normal by Image Position (Patient)
    /// when every instance has position and orientation, otherwise by Instance Number, otherwise by path. Only headers are read.
    /// </summary>
    public static string SelectMiddle(IEnumerable<string> instanceFiles)
    {
        var headers = instanceFiles.Select(path => (Path: path, Header: ReadHeader(path))).ToList();
        if (headers.Count == 0) throw new ArgumentException("A series needs at least one instance.", nameof(instanceFiles));
        var ordered = Order(headers.Select(h => (h.Path, h.Header)).ToList());
        return ordered[(ordered.Count - 1) / 2];
    }

    /// <summary>Orders instances along the slice normal, or by Instance Number, or by key.</summary>
    public static List<string> Order(IReadOnlyList<(string Key, DicomDataset Header)> instances)
    {
        var positions = instances.Select(i => i.Header.GetValues<double>(DicomTags.ImagePositionPatient)).ToList();
        var orientation = instances.Select(i => i.Header.GetValues<double>(DicomTags.ImageOrientationPatient)).FirstOrDefault(o => o.Length == 6);
        if (orientation != null && positions.All(p => p.Length == 3))
        {
            var normal = Geometry.Cross(orientation[..3], orientation[3..]);
            return instances.Select((inst, k) => (inst.Key, Distance: Geometry.Dot(positions[k], normal)))
                .OrderBy(x => x.Distance).ThenBy(x => x.Key, StringComparer.Ordinal).Select(x => x.Key).ToList();
        }
        return instances
            .OrderBy(i => i.Header.TryGet<int>(DicomTags.InstanceNumber, out var n) ? n : int.MaxValue)
            .ThenBy(i => i.Key, StringComparer.Ordinal)
            .Select(i => i.Key).ToList();
    }

    private static DicomDataset ReadHeader(string path) =>
        DicomFile.Open(path, new DicomReadOptions { StopBeforePixelData = true }).Dataset;

    /// <summary>Thumbnail of the series' middle image.</summary>
    public static byte[] Create(IEnumerable<string> instanceFiles, ThumbnailOptions? options = null, DicomCodecs? codecs = null) =>
        CreateForInstance(SelectMiddle(instanceFiles), options, codecs);

    /// <summary>Thumbnail of one instance (its middle frame for multi-frame objects).</summary>
    public static byte[] CreateForInstance(string path, ThumbnailOptions? options = null, DicomCodecs? codecs = null)
    {
        options ??= new ThumbnailOptions();
        var file = DicomFile.Open(path);
        var pixelData = DicomPixelData.Create(file);
        var image = DicomRenderer.Render(pixelData, new RenderOptions
        {
            Frame = (pixelData.FrameCount - 1) / 2,
            Window = options.Window,
            MaxWidth = options.MaxWidth,
            MaxHeight = options.MaxHeight,
        }, codecs);
        return ImageEncoder.Encode(image, options.Format, options.PngZlibLevel, options.JpegQuality);
    }
}
