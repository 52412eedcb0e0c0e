using JpegLibrary;

namespace Kaapana.Dicom.Imaging.Codecs;

/// <summary>
/// JPEG (ISO 10918-1) through the managed JpegLibrary decoder: baseline (process 1), extended (processes 2 and 4, 12-bit),
/// lossless (process 14, any predictor) and SV1. Decoded YBR_FULL / YBR_FULL_422 data is converted to RGB with libjpeg's
/// fixed-point arithmetic and the Photometric Interpretation becomes RGB, as DCMTK's dcmdjpeg does; subsampled chroma is
/// upsampled with libjpeg's "fancy" (triangle) filter. Encoding: lossless SV1 (our own encoder, 2-16 bits, 1 or 3 samples).
/// </summary>
public sealed class JpegCodec : IDicomCodec
{
    public IReadOnlyList<DicomTransferSyntax> TransferSyntaxes { get; } =
    [
        DicomTransferSyntax.JPEGBaseline8Bit, DicomTransferSyntax.JPEGExtended12Bit,
        DicomTransferSyntax.JPEGLossless, DicomTransferSyntax.JPEGLosslessSV1,
    ];

    public bool CanEncode(DicomTransferSyntax syntax, PixelDataInfo info) =>
        (syntax.Uid == DicomTransferSyntax.JPEGLosslessSV1.Uid || syntax.Uid == DicomTransferSyntax.JPEGLossless.Uid)
        && info.BitsAllocated is 8 or 16 && info.BitsStored >= 2 && info.SamplesPerPixel is 1 or 3;

    public DecodedFrame Decode(ReadOnlyMemory<byte> encoded, PixelDataInfo info, DicomTransferSyntax syntax)
    {
        if (JpegLosslessDecoder.IsLossless(encoded.Span)) return DecodeLossless(encoded.Span, info, syntax);
        var decoder = new JpegDecoder();
        decoder.SetInput(encoded);
        decoder.Identify();
        int width = decoder.Width, height = decoder.Height, components = decoder.NumberOfComponents, precision = decoder.Precision;
        if (width != info.Columns || height != info.Rows)
            throw new DicomCodecException($"JPEG stream is {width}x{height}, the data set says {info.Columns}x{info.Rows}", syntax);
        if (components != info.SamplesPerPixel)
            throw new DicomCodecException($"JPEG stream has {components} components, the data set says {info.SamplesPerPixel} samples per pixel", syntax);
        if (precision < 2 || precision > 16 || precision > (info.BitsAllocated == 8 ? 8 : 16))
            throw new DicomCodecException($"JPEG precision {precision} does not fit Bits Allocated {info.BitsAllocated}", syntax);
        var sof = decoder.StartOfFrame;
        bool lossless = sof is JpegMarker.StartOfFrame3 or JpegMarker.StartOfFrame7 or JpegMarker.StartOfFrame11 or JpegMarker.StartOfFrame15;

        var planes = new PlaneWriter(width, height, components);
        decoder.SetOutputWriter(planes);
        decoder.Decode();

        int maxValue = (1 << precision) - 1;
        var outInfo = info with { PlanarConfiguration = 0 };
        var samples = planes.Planes;
        if (!lossless)
            foreach (var plane in samples)
                for (long p = 0; p < plane.Length; p++) plane[p] = Math.Clamp(plane[p], 0, maxValue);
        if (components == 3 && !lossless)
        {
            // Chroma decoded at lower resolution was replicated by the library; redo it as libjpeg does (triangle filter).
            for (int c = 0; c < 3; c++)
            {
                int h = decoder.GetMaximumHorizontalSampling() / Math.Max(1, (int)decoder.GetHorizontalSampling(c));
                int v = decoder.GetMaximumVerticalSampling() / Math.Max(1, (int)decoder.GetVerticalSampling(c));
                if ((h, v) is (2, 1) or (2, 2)) FancyUpsample(samples[c], width, height, h, v);
            }
        }
        bool toRgb = components == 3 && info.PhotometricInterpretation is PhotometricInterpretation.YbrFull or PhotometricInterpretation.YbrFull422;
        if (toRgb)
        {
            YCbCrToRgb(samples[0], samples[1], samples[2], precision);
            outInfo = outInfo with { PhotometricInterpretation = PhotometricInterpretation.Rgb };
        }

        if (outInfo.IsChromaSubsampled) outInfo = outInfo with { PhotometricInterpretation = PhotometricInterpretation.YbrFull };
        var output = new byte[outInfo.FrameLength];
        long pixels = (long)width * height;
        if (info.BitsAllocated == 8)
        {
            for (int c = 0; c < components; c++)
            {
                var plane = samples[c];
                for (long p = 0; p < pixels; p++) output[p * components + c] = (byte)Math.Clamp(plane[p], 0, maxValue);
            }
        }
        else
        {
            for (int c = 0; c < components; c++)
            {
                var plane = samples[c];
                for (long p = 0; p < pixels; p++)
                {
                    // Lossless samples are P-bit patterns (modulo 2^16); lossy ones are clamped to the precision.
                    int v = lossless ? plane[p] & 0xFFFF : Math.Clamp(plane[p], 0, maxValue);
                    long at = (p * components + c) * 2;
                    output[at] = (byte)v;
                    output[at + 1] = (byte)(v >> 8);
                }
            }
        }
        return new DecodedFrame(output, outInfo);
    }

    private static DecodedFrame DecodeLossless(ReadOnlySpan<byte> encoded, PixelDataInfo info, DicomTransferSyntax syntax)
    {
        var r = JpegLosslessDecoder.Decode(encoded);
        if (r.Width != info.Columns || r.Height != info.Rows)
            throw new DicomCodecException($"JPEG stream is {r.Width}x{r.Height}, the data set says {info.Columns}x{info.Rows}", syntax);
        if (r.Components != info.SamplesPerPixel)
            throw new DicomCodecException($"JPEG stream has {r.Components} components, the data set says {info.SamplesPerPixel} samples per pixel", syntax);
        if (r.Precision > (info.BitsAllocated == 8 ? 8 : 16))
            throw new DicomCodecException($"JPEG precision {r.Precision} does not fit Bits Allocated {info.BitsAllocated}", syntax);
        var planes = r.Planes;
        var outInfo = info with { PlanarConfiguration = 0 };
        if (r.Components == 3 && info.PhotometricInterpretation is PhotometricInterpretation.YbrFull or PhotometricInterpretation.YbrFull422)
        {
            YCbCrToRgb(planes[0], planes[1], planes[2], r.Precision);
            outInfo = outInfo with { PhotometricInterpretation = PhotometricInterpretation.Rgb };
        }
        var output = new byte[outInfo.FrameLength];
        long pixels = (long)r.Width * r.Height;
        int nc = r.Components, bps = info.BytesPerSample;
        for (int c = 0; c < nc; c++)
        {
            var plane = planes[c];
            for (long p = 0; p < pixels; p++)
            {
                long at = (p * nc + c) * bps;
                output[at] = (byte)plane[p];
                if (bps == 2) output[at + 1] = (byte)(plane[p] >> 8);
            }
        }
        return new DecodedFrame(output, outInfo);
    }

    /// <summary>Collects the 8x8 blocks the library emits into one full-resolution plane per component.</summary>
    private sealed class PlaneWriter(int width, int height, int components) : JpegBlockOutputWriter
    {
        public readonly int[][] Planes = Enumerable.Range(0, components).Select(_ => new int[(long)width * height]).ToArray();

        public override void WriteBlock(ref short blockRef, int componentIndex, int x, int y)
        {
            if ((uint)componentIndex >= (uint)components || x >= width || y >= height || x < 0 || y < 0) return;
            var plane = Planes[componentIndex];
            int w = Math.Min(8, width - x), h = Math.Min(8, height - y);
            for (int r = 0; r < h; r++)
            {
                long row = (long)(y + r) * width + x;
                for (int c = 0; c < w; c++)
                    plane[row + c] = System.Runtime.CompilerServices.Unsafe.Add(ref blockRef, r * 8 + c);
            }
        }
    }

    /// <summary>
    /// libjpeg's h2v1 / h2v2 "fancy" upsampling (jdsample.c): the replicated plane is reduced to the component's own
    /// resolution and re-expanded with a triangle filter (3/4 nearer, 1/4 farther sample).
    /// </summary>
    private static void FancyUpsample(int[] plane, int width, int height, int h, int v)
    {
        int cw = (width + h - 1) / h, ch = (height + v - 1) / v;
        var small = new int[cw * ch];
        for (int y = 0; y < ch; y++)
            for (int x = 0; x < cw; x++)
                small[y * cw + x] = plane[(long)Math.Min(y * v, height - 1) * width + Math.Min(x * h, width - 1)];
        // Edges: libjpeg replicates the first/last sample (columns) and the first/last row (context rows).
        if (v == 1)
        {
            for (int y = 0; y < height; y++)
            {
                int row = y * cw;
                for (int x = 0; x < cw; x++)
                {
                    int cur = small[row + x];
                    int prev = x > 0 ? small[row + x - 1] : cur;
                    int next = x + 1 < cw ? small[row + x + 1] : cur;
                    int ox = 2 * x;
                    if (ox < width) plane[(long)y * width + ox] = x == 0 ? cur : (cur * 3 + prev + 1) >> 2;
                    if (ox + 1 < width) plane[(long)y * width + ox + 1] = x == cw - 1 ? cur : (cur * 3 + next + 2) >> 2;
                }
            }
            return;
        }
        // h2v2: vertical then horizontal, with sums kept at 4x scale (jdsample.c h2v2_fancy_upsample).
        var colSum = new int[cw];
        for (int oy = 0; oy < height; oy++)
        {
            int y = oy / 2;
            int ny = (oy & 1) == 0 ? Math.Max(y - 1, 0) : Math.Min(y + 1, ch - 1);
            for (int x = 0; x < cw; x++) colSum[x] = small[y * cw + x] * 3 + small[ny * cw + x];
            for (int x = 0; x < cw; x++)
            {
                int cur = colSum[x];
                int prev = x > 0 ? colSum[x - 1] : cur;
                int next = x + 1 < cw ? colSum[x + 1] : cur;
                int ox = 2 * x;
                if (ox < width) plane[(long)oy * width + ox] = x == 0 ? (cur * 4 + 8) >> 4 : (cur * 3 + prev + 8) >> 4;
                if (ox + 1 < width) plane[(long)oy * width + ox + 1] = x == cw - 1 ? (cur * 4 + 7) >> 4 : (cur * 3 + next + 7) >> 4;
            }
        }
    }

    /// <summary>libjpeg's jdcolor.c YCbCr → RGB (16-bit fixed point, rounded), for 8- or 12-bit samples.</summary>
    private static void YCbCrToRgb(int[] y, int[] cb, int[] cr, int precision)
    {
        const int ScaleBits = 16;
        const int OneHalf = 1 << (ScaleBits - 1);
        static int Fix(double x) => (int)(x * (1 << ScaleBits) + 0.5);
        int max = (1 << precision) - 1, center = 1 << (precision - 1);
        var crR = new int[max + 1];
        var cbB = new int[max + 1];
        var crG = new int[max + 1];
        var cbG = new int[max + 1];
        for (int i = 0; i <= max; i++)
        {
            int x = i - center;
            crR[i] = (Fix(1.40200) * x + OneHalf) >> ScaleBits;
            cbB[i] = (Fix(1.77200) * x + OneHalf) >> ScaleBits;
            crG[i] = -Fix(0.71414) * x;
            cbG[i] = -Fix(0.34414) * x + OneHalf;
        }
        for (long p = 0; p < y.Length; p++)
        {
            int yy = Math.Clamp(y[p], 0, max), b = Math.Clamp(cb[p], 0, max), r = Math.Clamp(cr[p], 0, max);
            y[p] = Math.Clamp(yy + crR[r], 0, max);
            cb[p] = Math.Clamp(yy + ((cbG[b] + crG[r]) >> ScaleBits), 0, max);
            cr[p] = Math.Clamp(yy + cbB[b], 0, max);
        }
    }

    public EncodedFrame Encode(ReadOnlySpan<byte> frame, PixelDataInfo info, DicomTransferSyntax syntax)
    {
        if (frame.Length < info.FrameLength) throw new DicomCodecException($"Frame holds {frame.Length} bytes, {info.FrameLength} expected", syntax);
        var data = JpegLosslessEncoder.Encode(frame, info);
        return new EncodedFrame(data, info with { PlanarConfiguration = 0, NumberOfFrames = 1 });
    }
}
