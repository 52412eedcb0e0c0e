using System.Buffers.Binary;

namespace Kaapana.Dicom.Imaging.Codecs;

/// <summary>
/// RLE Lossless (PS3.5 Annex G): one segment per byte of each sample (most significant byte first), each segment
/// PackBits-coded row by row. Decodes 8/16/32-bit data with 1 or 3 samples; encodes the same.
/// </summary>
public sealed class RleCodec : IDicomCodec
{
    private const int HeaderLength = 64;

    public IReadOnlyList<DicomTransferSyntax> TransferSyntaxes { get; } = [DicomTransferSyntax.RLELossless];

    public bool CanEncode(DicomTransferSyntax syntax, PixelDataInfo info) =>
        info.BitsAllocated is 8 or 16 or 32 && info.SamplesPerPixel * info.BytesPerSample <= 15;

    public DecodedFrame Decode(ReadOnlyMemory<byte> encoded, PixelDataInfo info, DicomTransferSyntax syntax)
    {
        if (info.BitsAllocated is not (8 or 16 or 32))
            throw new DicomCodecException($"RLE with Bits Allocated {info.BitsAllocated} is not supported", syntax);
        var src = encoded.Span;
        if (src.Length < HeaderLength) throw new DicomCodecException($"RLE frame of {src.Length} bytes is shorter than its 64-byte header", syntax);
        int bytesPerSample = info.BytesPerSample;
        int expectedSegments = info.SamplesPerPixel * bytesPerSample;
        uint segments = BinaryPrimitives.ReadUInt32LittleEndian(src);
        if (segments != expectedSegments)
            throw new DicomCodecException($"RLE header declares {segments} segments, {expectedSegments} expected for {info.SamplesPerPixel} sample(s) of {info.BitsAllocated} bits", syntax);

        long pixels = info.PixelsPerFrame;
        var output = new byte[info.FrameLength];
        var segment = new byte[pixels];
        for (int s = 0; s < expectedSegments; s++)
        {
            uint start = BinaryPrimitives.ReadUInt32LittleEndian(src[(4 + 4 * s)..]);
            uint end = s + 1 < expectedSegments ? BinaryPrimitives.ReadUInt32LittleEndian(src[(8 + 4 * s)..]) : (uint)src.Length;
            if (start < HeaderLength || start > src.Length || end > src.Length || end < start)
                throw new DicomCodecException($"RLE segment {s + 1} has invalid offsets {start}..{end} in a frame of {src.Length} bytes", syntax);
            int produced = DecodeSegment(src[(int)start..(int)end], segment);
            if (produced < pixels)
                throw new DicomCodecException($"RLE segment {s + 1} decodes to {produced} bytes, {pixels} expected (truncated or corrupt)", syntax);

            // Segment order: sample by sample, most significant byte first. Output is little endian, colour-by-pixel.
            int sample = s / bytesPerSample;
            int byteInSample = bytesPerSample - 1 - s % bytesPerSample;
            int stride = info.SamplesPerPixel * bytesPerSample;
            int offset = sample * bytesPerSample + byteInSample;
            if (stride == 1) segment.AsSpan().CopyTo(output);
            else
                for (long p = 0; p < pixels; p++) output[p * stride + offset] = segment[p];
        }
        return new DecodedFrame(output, info with { PlanarConfiguration = 0 });
    }

    /// <summary>PackBits: n in 0..127 copies n+1 literal bytes, n in -127..-1 repeats the next byte 1-n times, -128 is a no-op.</summary>
    private static int DecodeSegment(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int i = 0, o = 0;
        while (i < src.Length && o < dst.Length)
        {
            sbyte n = (sbyte)src[i++];
            if (n >= 0)
            {
                int count = n + 1;
                if (i + count > src.Length) count = src.Length - i; // truncated literal: take what is there
                count = Math.Min(count, dst.Length - o);
                src.Slice(i, count).CopyTo(dst[o..]);
                i += n + 1;
                o += count;
            }
            else if (n != -128)
            {
                if (i >= src.Length) break;
                int count = Math.Min(1 - n, dst.Length - o);
                dst.Slice(o, count).Fill(src[i++]);
                o += count;
            }
        }
        return o;
    }

    public EncodedFrame Encode(ReadOnlySpan<byte> frame, PixelDataInfo info, DicomTransferSyntax syntax)
    {
        int bytesPerSample = info.BytesPerSample;
        int spp = info.SamplesPerPixel;
        int segments = spp * bytesPerSample;
        if (frame.Length < info.FrameLength) throw new DicomCodecException($"Frame holds {frame.Length} bytes, {info.FrameLength} expected", syntax);
        int rows = info.Rows, cols = info.Columns;
        long pixels = info.PixelsPerFrame;
        var output = new MemoryStream((int)Math.Min(int.MaxValue, info.FrameLength + HeaderLength + 64));
        output.Write(new byte[HeaderLength]);
        var header = new byte[HeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)segments);
        var plane = new byte[pixels];
        var scratch = new byte[cols + cols / 128 + 2];
        for (int s = 0; s < segments; s++)
        {
            int sample = s / bytesPerSample;
            int byteInSample = bytesPerSample - 1 - s % bytesPerSample;
            // Colour-by-plane input keeps each sample's values together.
            for (long p = 0; p < pixels; p++)
                plane[p] = info.PlanarConfiguration == 1 && spp > 1
                    ? frame[(int)((sample * pixels + p) * bytesPerSample + byteInSample)]
                    : frame[(int)((p * spp + sample) * bytesPerSample + byteInSample)];
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4 + 4 * s), (uint)output.Position);
            for (int r = 0; r < rows; r++)
            {
                int n = EncodeRow(plane.AsSpan(r * cols, cols), scratch);
                output.Write(scratch, 0, n);
            }
            if ((output.Position & 1) == 1) output.WriteByte(0); // segments are even length
        }
        var result = output.ToArray();
        header.CopyTo(result, 0);
        return new EncodedFrame(result, info with { PlanarConfiguration = 0, NumberOfFrames = 1 });
    }

    /// <summary>PackBits for one row (rows are never crossed, PS3.5 G.3.1). Runs of 3 or more become replicate runs.</summary>
    private static int EncodeRow(ReadOnlySpan<byte> row, byte[] dst)
    {
        int o = 0, i = 0, n = row.Length;
        while (i < n)
        {
            int run = 1;
            while (i + run < n && run < 128 && row[i + run] == row[i]) run++;
            if (run >= 3 || (run == 2 && i + run == n))
            {
                dst[o++] = (byte)(sbyte)(1 - run);
                dst[o++] = row[i];
                i += run;
                continue;
            }
            // Literal: extend until a run of 3 starts or 128 bytes are collected.
            int start = i;
            int len = 0;
            while (i < n && len < 128)
            {
                if (i + 2 < n && row[i] == row[i + 1] && row[i] == row[i + 2]) break;
                i++;
                len++;
            }
            dst[o++] = (byte)(len - 1);
            row.Slice(start, len).CopyTo(dst.AsSpan(o));
            o += len;
        }
        return o;
    }
}
