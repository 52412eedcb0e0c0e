using System.Globalization;

namespace Kaapana.Dicom.Imaging;

/// <summary>Per-frame and shared functional groups of enhanced multi-frame objects (PS3.3 C.7.6.16).</summary>
public static class FunctionalGroups
{
    /// <summary>
    /// The first item of functional group macro <paramref name="macro"/> (e.g. Pixel Value Transformation Sequence) that
    /// applies to frame <paramref name="frame"/>: the per-frame group takes precedence over the shared one. Null when neither has it.
    /// </summary>
    public static DicomDataset? GetFrameMacro(DicomDataset ds, int frame, DicomTag macro)
    {
        if (ds.TryGetSequence(DicomTags.PerFrameFunctionalGroupsSequence, out var perFrame) && frame >= 0 && frame < perFrame.Items.Count
            && perFrame.Items[frame].TryGetSequence(macro, out var pf) && pf.Items.Count > 0)
            return pf.Items[0];
        if (ds.TryGetSequence(DicomTags.SharedFunctionalGroupsSequence, out var shared) && shared.Items.Count > 0
            && shared.Items[0].TryGetSequence(macro, out var sh) && sh.Items.Count > 0)
            return sh.Items[0];
        return null;
    }
}

/// <summary>
/// The Modality LUT stage (PS3.3 C.11.1): stored values to modality values (e.g. Hounsfield units) by Rescale Slope and
/// Intercept or by a Modality LUT. For enhanced objects the frame's Pixel Value Transformation macro is used.
/// </summary>
public sealed class ModalityTransform
{
    public static readonly ModalityTransform Identity = new(1, 0, null);

    public ModalityTransform(double slope, double intercept, LookupTable? lut)
    {
        Slope = slope;
        Intercept = intercept;
        Lut = lut;
    }

    public double Slope { get; }
    public double Intercept { get; }
    public LookupTable? Lut { get; }
    public bool IsIdentity => Lut == null && Slope == 1 && Intercept == 0;

    public double Apply(double stored) => Lut != null ? Lut[stored] : stored * Slope + Intercept;

    public static ModalityTransform For(DicomDataset ds, int frame = 0)
    {
        // Rescale only applies to grey-scale images; colour images have no Modality LUT stage.
        if (!PhotometricInterpretation.IsMonochrome(ds.GetString(DicomTags.PhotometricInterpretation).Trim())) return Identity;
        var source = FunctionalGroups.GetFrameMacro(ds, frame, DicomTags.PixelValueTransformationSequence) ?? ds;
        if (source.TryGetSequence(DicomTags.ModalityLUTSequence, out var mlut) && mlut.Items.Count > 0)
            return new ModalityTransform(1, 0, LookupTable.FromItem(mlut.Items[0], ds.GetOrDefault(DicomTags.PixelRepresentation, 0) == 1));
        double slope = source.TryGet<double>(DicomTags.RescaleSlope, out var s) && s != 0 && double.IsFinite(s) ? s : 1;
        double intercept = source.TryGet<double>(DicomTags.RescaleIntercept, out var i) && double.IsFinite(i) ? i : 0;
        return new ModalityTransform(slope, intercept, null);
    }
}

/// <summary>VOI LUT Function (0028,1056), PS3.3 C.11.2.1.3.</summary>
public enum VoiLutFunction
{
    Linear,
    LinearExact,
    Sigmoid,
}

/// <summary>A window (centre and width, in modality units) with its function.</summary>
public readonly record struct VoiWindow(double Center, double Width, VoiLutFunction Function = VoiLutFunction.Linear)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"C={Center} W={Width} {Function}");
}

/// <summary>
/// The VOI LUT stage (PS3.3 C.11.2): modality values to display values by a window (linear, linear exact or sigmoid) or by
/// a VOI LUT. Output is a value in [0, 1] that the renderer scales to its bit depth.
/// </summary>
public sealed class VoiTransform
{
    private VoiTransform(VoiWindow? window, LookupTable? lut)
    {
        Window = window;
        Lut = lut;
    }

    public VoiWindow? Window { get; }
    public LookupTable? Lut { get; }

    public static VoiTransform FromWindow(VoiWindow window) => new(window, null);
    public static VoiTransform FromLut(LookupTable lut) => new(null, lut);

    /// <summary>
    /// The window (or VOI LUT) the object itself recommends for <paramref name="frame"/>: the first of Window Center/Width,
    /// or else the first VOI LUT; for enhanced objects the frame's Frame VOI LUT macro. Null when there is none.
    /// </summary>
    public static VoiTransform? FromDataset(DicomDataset ds, int frame = 0, int index = 0)
    {
        var source = FunctionalGroups.GetFrameMacro(ds, frame, DicomTags.FrameVOILUTSequence) ?? ds;
        var centers = source.GetValues<double>(DicomTags.WindowCenter);
        var widths = source.GetValues<double>(DicomTags.WindowWidth);
        if (centers.Length > index && widths.Length > index && widths[index] > 0)
            return FromWindow(new VoiWindow(centers[index], widths[index], ParseFunction(source.GetString(DicomTags.VOILUTFunction))));
        if (source.TryGetSequence(DicomTags.VOILUTSequence, out var seq) && seq.Items.Count > index)
            return FromLut(LookupTable.FromItem(seq.Items[index], ds.GetOrDefault(DicomTags.PixelRepresentation, 0) == 1
                && ModalityTransform.For(ds, frame).IsIdentity));
        return null;
    }

    public static VoiLutFunction ParseFunction(string? text) => text?.Trim().ToUpperInvariant() switch
    {
        "LINEAR_EXACT" => VoiLutFunction.LinearExact,
        "SIGMOID" => VoiLutFunction.Sigmoid,
        _ => VoiLutFunction.Linear,
    };

    /// <summary>
    /// Maps a modality value to an output level in [<paramref name="yMin"/>, <paramref name="yMax"/>] (yMin &gt; yMax inverts,
    /// as for MONOCHROME1). Linear follows PS3.3 C.11.2.1.2.1 in DCMTK's arithmetic (truncated), so 8-bit output matches dcm2pnm.
    /// </summary>
    public double Apply(double x, double yMin, double yMax)
    {
        if (Lut is { } lut)
        {
            // Like DCMTK: scale by the table's full range 2^bits.
            return yMin + lut[x] * ((yMax - yMin) / (1 << lut.BitsPerEntry));
        }
        var w = Window!.Value;
        double outRange = yMax - yMin;
        switch (w.Function)
        {
            case VoiLutFunction.LinearExact:
            {
                double width = Math.Max(w.Width, double.Epsilon);
                if (x <= w.Center - width / 2) return yMin;
                if (x > w.Center + width / 2) return yMax;
                return ((x - w.Center) / width + 0.5) * outRange + yMin;
            }
            case VoiLutFunction.Sigmoid:
                return outRange / (1 + Math.Exp(-4 * (x - w.Center) / Math.Max(w.Width, double.Epsilon))) + yMin;
            default:
            {
                double width = Math.Max(w.Width, 1);
                double width1 = width - 1;
                double left = w.Center - 0.5 - width1 / 2, right = w.Center - 0.5 + width1 / 2;
                if (x <= left) return yMin;
                if (x > right) return yMax;
                if (width1 == 0) return yMax;
                // DCMTK dimoopxt.h: offset + value * gradient.
                double offset = yMax - ((w.Center - 0.5) / width1 + 0.5) * outRange;
                return offset + x * (outRange / width1);
            }
        }
    }
}
