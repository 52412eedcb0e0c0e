using System.Buffers.Binary;
using Kaapana.Dicom.Imaging.Codecs;

namespace Kaapana.Dicom.Imaging.Rendering;

/// <summary>Which VOI transformation to use for grey-scale images.</summary>
public enum VoiSource
{
    /// <summary>The window (or VOI LUT) the object recommends (per frame for enhanced objects); min/max when it has none.</summary>
    FileOrMinMax,
    /// <summary>Centre and width computed from the frame's smallest and largest modality values (DCMTK's min-max window).</summary>
    MinMax,
}

/// <summary>How to render a frame.</summary>
public sealed record RenderOptions
{
    public static RenderOptions Default { get; } = new();

    /// <summary>Zero-based frame.</summary>
    public int Frame { get; init; }

    /// <summary>An explicit window (modality units); overrides <see cref="Voi"/>.</summary>
    public VoiWindow? Window { get; init; }

    public VoiSource Voi { get; init; } = VoiSource.FileOrMinMax;

    /// <summary>Which of several windows / VOI LUTs in the object to use (0 = first).</summary>
    public int VoiIndex { get; init; }

    /// <summary>Fit the image into this box, keeping its aspect ratio (never enlarged). Null keeps the stored size.</summary>
    public int? MaxWidth { get; init; }

    public int? MaxHeight { get; init; }
}

/// <summary>An 8-bit rendered image: one byte per pixel (grey) or four (RGBA, alpha 255).</summary>
public sealed class RenderedImage(int width, int height, bool isColor, byte[] pixels)
{
    public int Width { get; } = width;
    public int Height { get; } = height;
    public bool IsColor { get; } = isColor;
    public int BytesPerPixel => IsColor ? 4 : 1;
    public byte[] Pixels { get; } = pixels;
}

/// <summary>
/// Renders a frame for display (PS3.4 N.2 pipeline): Modality LUT (rescale or LUT, per frame for enhanced objects), VOI
/// (window linear / linear exact / sigmoid, VOI LUT, or min/max), MONOCHROME1 inversion; colour images from RGB,
/// YBR_FULL, YBR_FULL_422 and PALETTE COLOR. Grey-scale output follows DCMTK's arithmetic, so dcm2pnm with the same
/// window gives the same bytes (within one grey level).
/// </summary>
public static class DicomRenderer
{
    public static RenderedImage Render(DicomFile file, RenderOptions? options = null, DicomCodecs? codecs = null) =>
        Render(DicomPixelData.Create(file), options, codecs);

    public static RenderedImage Render(DicomPixelData pixelData, RenderOptions? options = null, DicomCodecs? codecs = null)
    {
        options ??= RenderOptions.Default;
        codecs ??= DicomCodecs.Default;
        var frame = codecs.DecodeFrame(pixelData, options.Frame);
        var info = frame.Info;
        var image = PhotometricInterpretation.IsMonochrome(info.PhotometricInterpretation) && info.SamplesPerPixel == 1
            ? RenderGray(pixelData.Dataset, frame, options)
            : RenderColor(pixelData.Dataset, frame);
        if (options.MaxWidth is { } mw || options.MaxHeight is not null)
        {
            var (w, h) = FitSize(image.Width, image.Height, options.MaxWidth ?? int.MaxValue, options.MaxHeight ?? int.MaxValue);
            if (w != image.Width || h != image.Height) image = ImageEncoder.Resize(image, w, h);
        }
        return image;
    }

    /// <summary>The largest size within the box that keeps the aspect ratio, never larger than the source.</summary>
    public static (int Width, int Height) FitSize(int width, int height, int maxWidth, int maxHeight)
    {
        double scale = Math.Min(1.0, Math.Min((double)maxWidth / width, (double)maxHeight / height));
        return (Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }

    // ---- grey scale ----

    private static RenderedImage RenderGray(DicomDataset ds, DecodedFrame frame, RenderOptions options)
    {
        var info = frame.Info;
        var modality = ModalityTransform.For(ds, options.Frame);
        bool inverse = info.PhotometricInterpretation == PhotometricInterpretation.Monochrome1;
        double yMin = inverse ? 255 : 0, yMax = inverse ? 0 : 255;
        int count = (int)info.PixelsPerFrame;
        var output = new byte[count];

        if (info.BitsStored <= 16)
        {
            // Every stored value maps through one table: cheap to build, one lookup per pixel.
            int bits = info.BitsStored;
            int size = 1 << bits;
            int offset = info.IsSigned ? size / 2 : 0; // table index = value + offset
            var indices = ReadStoredIndices(frame.Data, info, offset);
            VoiTransform voi = SelectVoi(ds, options, modality, () =>
            {
                int min = int.MaxValue, max = int.MinValue;
                foreach (var i in indices) { if (i < min) min = i; if (i > max) max = i; }
                double a = modality.Apply(min - offset), b = modality.Apply(max - offset);
                return (Math.Min(a, b), Math.Max(a, b));
            });
            var table = new byte[size];
            for (int i = 0; i < size; i++) table[i] = ToByte(voi.Apply(modality.Apply(i - offset), yMin, yMax));
            for (int p = 0; p < count; p++) output[p] = table[indices[p]];
        }
        else
        {
            var values = new double[count];
            for (int p = 0; p < count; p++) values[p] = modality.Apply(ReadStoredValue(frame.Data, info, p));
            var voi = SelectVoi(ds, options, modality, () => (values.Min(), values.Max()));
            for (int p = 0; p < count; p++) output[p] = ToByte(voi.Apply(values[p], yMin, yMax));
        }
        return new RenderedImage(info.Columns, info.Rows, false, output);
    }

    /// <summary>Truncation, as DCMTK casts its double results to the output type.</summary>
    private static byte ToByte(double v) => v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)v;

    private static VoiTransform SelectVoi(DicomDataset ds, RenderOptions options, ModalityTransform modality, Func<(double Min, double Max)> minMax)
    {
        if (options.Window is { } w) return VoiTransform.FromWindow(w);
        if (options.Voi == VoiSource.FileOrMinMax && VoiTransform.FromDataset(ds, options.Frame, options.VoiIndex) is { } fromFile) return fromFile;
        var (min, max) = minMax();
        // DCMTK (dimopxt.h getMinMaxWindow): centre (min + max + 1) / 2, width max - min + 1.
        return VoiTransform.FromWindow(new VoiWindow((min + max + 1) / 2, max - min + 1));
    }

    /// <summary>Stored values of a grey frame as table indices (value + <paramref name="offset"/>), honouring High Bit and sign.</summary>
    private static int[] ReadStoredIndices(byte[] data, PixelDataInfo info, int offset)
    {
        int count = (int)info.PixelsPerFrame;
        var result = new int[count];
        int bits = info.BitsStored, shift = info.HighBit + 1 - bits;
        int mask = (int)((1L << bits) - 1);
        int signBit = 1 << (bits - 1);
        bool signed = info.IsSigned;
        switch (info.BitsAllocated)
        {
            case 1:
                for (int p = 0; p < count; p++) result[p] = (data[p >> 3] >> (p & 7)) & 1;
                return result;
            case 8:
                for (int p = 0; p < count; p++)
                {
                    int v = (data[p] >> shift) & mask;
                    result[p] = (signed && (v & signBit) != 0 ? v - (mask + 1) : v) + offset;
                }
                return result;
            case 16:
                for (int p = 0; p < count; p++)
                {
                    int v = (BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(2 * p)) >> shift) & mask;
                    result[p] = (signed && (v & signBit) != 0 ? v - (mask + 1) : v) + offset;
                }
                return result;
            default:
                for (int p = 0; p < count; p++)
                {
                    long v = (BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4 * p)) >> shift) & mask;
                    result[p] = (int)(signed && (v & signBit) != 0 ? v - (mask + 1L) : v) + offset;
                }
                return result;
        }
    }

    private static double ReadStoredValue(byte[] data, PixelDataInfo info, int p)
    {
        int bits = info.BitsStored, shift = info.HighBit + 1 - bits;
        ulong raw = info.BitsAllocated == 32 ? BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4 * p)) : BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(2 * p));
        ulong mask = (1UL << bits) - 1;
        ulong v = (raw >> shift) & mask;
        if (info.IsSigned && (v & (1UL << (bits - 1))) != 0) return (long)v - (long)(mask + 1);
        return v;
    }

    // ---- colour ----

    private static RenderedImage RenderColor(DicomDataset ds, DecodedFrame frame)
    {
        var info = frame.Info;
        int count = (int)info.PixelsPerFrame;
        var rgba = new byte[count * 4];
        var data = frame.Data;
        switch (info.PhotometricInterpretation)
        {
            case PhotometricInterpretation.PaletteColor:
            {
                var palette = PaletteColorLut.FromDataset(ds);
                var indices = ReadStoredIndices(data, info with { SamplesPerPixel = 1 }, 0);
                var r = ToByteTable(palette.Red);
                var g = ToByteTable(palette.Green);
                var b = ToByteTable(palette.Blue);
                int first = palette.Red.FirstMapped, offset = info.IsSigned ? 1 << (info.BitsStored - 1) : 0;
                for (int p = 0; p < count; p++)
                {
                    int i = Math.Clamp(indices[p] - offset - first, 0, r.Length - 1);
                    rgba[4 * p] = r[i];
                    rgba[4 * p + 1] = g[Math.Min(i, g.Length - 1)];
                    rgba[4 * p + 2] = b[Math.Min(i, b.Length - 1)];
                    rgba[4 * p + 3] = 255;
                }
                break;
            }
            case PhotometricInterpretation.YbrFull422 or "YBR_PARTIAL_422" when info.IsChromaSubsampled:
            {
                // Y1 Y2 Cb Cr per pair of pixels (8-bit).
                if (info.BitsAllocated != 8) throw new DicomPixelDataException("YBR_FULL_422 with more than 8 bits is not supported.");
                var t = YbrTables.Instance;
                int cols = info.Columns;
                for (int y = 0; y < info.Rows; y++)
                {
                    for (int x = 0; x < cols; x++)
                    {
                        int pairStart = (y * cols + (x & ~1)) * 2;
                        int yy = data[pairStart + (x & 1)], cb = data[pairStart + 2], cr = data[pairStart + 3];
                        YbrTables.ConvertExact(yy, cb, cr, rgba.AsSpan(4 * (y * cols + x)));
                    }
                }
                break;
            }
            default:
            {
                int spp = info.SamplesPerPixel;
                if (spp < 3) throw new DicomPixelDataException($"Photometric Interpretation {info.PhotometricInterpretation} with {spp} sample(s) is not supported.");
                bool planar = info.PlanarConfiguration == 1;
                bool ybr = info.PhotometricInterpretation is PhotometricInterpretation.YbrFull or PhotometricInterpretation.YbrFull422 or "YBR_PARTIAL_420";
                int shift = Math.Max(0, info.BitsStored - 8);
                int bps = info.BytesPerSample;
                int Sample(int p, int c)
                {
                    long index = planar ? (long)c * count + p : (long)p * spp + c;
                    long v = bps == 1 ? data[index] : bps == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan((int)(index * 2))) : BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)(index * 4)));
                    return (int)Math.Clamp(v >> shift, 0, 255);
                }
                var t = YbrTables.Instance;
                for (int p = 0; p < count; p++)
                {
                    int a = Sample(p, 0), b = Sample(p, 1), c = Sample(p, 2);
                    if (ybr) t.Convert(a, b, c, rgba.AsSpan(4 * p));
                    else
                    {
                        rgba[4 * p] = (byte)a;
                        rgba[4 * p + 1] = (byte)b;
                        rgba[4 * p + 2] = (byte)c;
                        rgba[4 * p + 3] = 255;
                    }
                }
                break;
            }
        }
        return new RenderedImage(info.Columns, info.Rows, true, rgba);
    }

    private static byte[] ToByteTable(LookupTable lut)
    {
        int shift = Math.Max(0, lut.BitsPerEntry - 8);
        return lut.Entries.Select(e => (byte)Math.Min(255, e >> shift)).ToArray();
    }

    /// <summary>YBR_FULL → RGB for 8-bit samples with DCMTK's tables (diybrpxt.h), so colours match dcm2pnm.</summary>
    private sealed class YbrTables
    {
        public static readonly YbrTables Instance = new();
        private readonly short[] _rCr = new short[256], _gCb = new short[256], _gCr = new short[256], _bCb = new short[256];

        private YbrTables()
        {
            for (int i = 0; i < 256; i++)
            {
                _rCr[i] = (short)(1.4020 * i - 0.7010 * 255);
                _gCb[i] = (short)(0.3441 * i);
                _gCr[i] = (short)(0.7141 * i - 0.5291 * 255);
                _bCb[i] = (short)(1.7720 * i - 0.8859 * 255);
            }
        }

        /// <summary>DCMTK's per-pixel double formula (diyf2pxt.h, used for YBR_FULL_422).</summary>
        public static void ConvertExact(int y, int cb, int cr, Span<byte> rgba)
        {
            double r = y + 1.4020 * cr - 0.7010 * 255, g = y - 0.3441 * cb - 0.7141 * cr + 0.5291 * 255, b = y + 1.7720 * cb - 0.8859 * 255;
            rgba[0] = r < 0 ? (byte)0 : r > 255 ? (byte)255 : (byte)r;
            rgba[1] = g < 0 ? (byte)0 : g > 255 ? (byte)255 : (byte)g;
            rgba[2] = b < 0 ? (byte)0 : b > 255 ? (byte)255 : (byte)b;
            rgba[3] = 255;
        }

        public void Convert(int y, int cb, int cr, Span<byte> rgba)
        {
            rgba[0] = (byte)Math.Clamp(y + _rCr[cr], 0, 255);
            rgba[1] = (byte)Math.Clamp(y - _gCb[cb] - _gCr[cr], 0, 255);
            rgba[2] = (byte)Math.Clamp(y + _bCb[cb], 0, 255);
            rgba[3] = 255;
        }
    }
}
