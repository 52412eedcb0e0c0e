using System.Buffers.Binary;

namespace Kaapana.Dicom.Imaging.Codecs;

/// <summary>
/// JPEG lossless, process 14, selection value 1 (ISO 10918-1 H.1): predictor Ra, point transform 0, one optimal Huffman
/// table (Annex K.2) for all components, components interleaved. Precision is Bits Stored; values are taken modulo 2^P.
/// </summary>
internal static class JpegLosslessEncoder
{
    public static byte[] Encode(ReadOnlySpan<byte> frame, PixelDataInfo info)
    {
        int rows = info.Rows, cols = info.Columns, nc = info.SamplesPerPixel;
        int precision = Math.Clamp(info.BitsStored, 2, 16);
        int mask = (1 << precision) - 1;
        long pixels = (long)rows * cols;
        bool planar = info.PlanarConfiguration == 1 && nc > 1;
        bool wide = info.BitsAllocated > 8;

        var planes = new int[nc][];
        for (int c = 0; c < nc; c++)
        {
            var plane = planes[c] = new int[pixels];
            for (long p = 0; p < pixels; p++)
            {
                long index = planar ? c * pixels + p : p * nc + c;
                int v = wide ? BinaryPrimitives.ReadUInt16LittleEndian(frame[(int)(index * 2)..]) : frame[(int)index];
                plane[p] = v & mask;
            }
        }

        // Differences in scan order (MCU = one sample of each component), modulo 2^16 as H.1.2.1 specifies.
        var diffs = new int[pixels * nc];
        var freq = new long[257];
        int initial = 1 << (precision - 1);
        long k = 0;
        for (int y = 0; y < rows; y++)
        {
            for (int x = 0; x < cols; x++)
            {
                long p = (long)y * cols + x;
                for (int c = 0; c < nc; c++)
                {
                    var plane = planes[c];
                    int px = y == 0 ? (x == 0 ? initial : plane[p - 1])
                        : x == 0 ? plane[p - cols]
                        : plane[p - 1];
                    int d = (plane[p] - px) & 0xFFFF;
                    if (d >= 0x8000) d -= 0x10000;
                    diffs[k++] = d;
                    freq[Category(d)]++;
                }
            }
        }

        var (bits, values) = BuildHuffmanTable(freq);
        var codes = new int[17];
        var lengths = new int[17];
        int code = 0, vi = 0;
        for (int len = 1; len <= 16; len++)
        {
            for (int i = 0; i < bits[len]; i++)
            {
                codes[values[vi]] = code++;
                lengths[values[vi]] = len;
                vi++;
            }
            code <<= 1;
        }

        var output = new MemoryStream((int)Math.Min(int.MaxValue, pixels * nc * (wide ? 2 : 1) / 2 + 1024));
        WriteMarker(output, 0xD8); // SOI
        // SOF3
        WriteMarker(output, 0xC3);
        WriteUInt16(output, 8 + 3 * nc);
        output.WriteByte((byte)precision);
        WriteUInt16(output, rows);
        WriteUInt16(output, cols);
        output.WriteByte((byte)nc);
        for (int c = 0; c < nc; c++)
        {
            output.WriteByte((byte)(c + 1));
            output.WriteByte(0x11);
            output.WriteByte(0);
        }
        // DHT: one DC-class table, id 0.
        WriteMarker(output, 0xC4);
        WriteUInt16(output, 2 + 1 + 16 + values.Length);
        output.WriteByte(0x00);
        for (int len = 1; len <= 16; len++) output.WriteByte((byte)bits[len]);
        foreach (var v in values) output.WriteByte((byte)v);
        // SOS: Ss = predictor 1, Se = 0, Ah/Al = 0.
        WriteMarker(output, 0xDA);
        WriteUInt16(output, 6 + 2 * nc);
        output.WriteByte((byte)nc);
        for (int c = 0; c < nc; c++)
        {
            output.WriteByte((byte)(c + 1));
            output.WriteByte(0x00);
        }
        output.WriteByte(1);
        output.WriteByte(0);
        output.WriteByte(0);

        var writer = new BitWriter(output);
        foreach (var d in diffs)
        {
            int ssss = Category(d);
            writer.Write(codes[ssss], lengths[ssss]);
            if (ssss is > 0 and < 16) writer.Write(d > 0 ? d : d - 1 + (1 << ssss), ssss);
        }
        writer.Flush();
        WriteMarker(output, 0xD9); // EOI
        return output.ToArray();
    }

    private static int Category(int d)
    {
        if (d == 0) return 0;
        if (d == -0x8000) return 16;
        int a = Math.Abs(d);
        return 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)a);
    }

    /// <summary>Code lengths limited to 16 bits (ISO 10918-1 K.2, figures K.1-K.4), with a reserved symbol so no code is all ones.</summary>
    internal static (int[] Bits, int[] Values) BuildHuffmanTable(long[] frequencies)
    {
        var freq = new long[257];
        Array.Copy(frequencies, freq, Math.Min(256, frequencies.Length));
        freq[256] = 1;
        var codeSize = new int[257];
        var others = Enumerable.Repeat(-1, 257).ToArray();
        while (true)
        {
            int v1 = -1, v2 = -1;
            for (int i = 0; i < 257; i++)
                if (freq[i] > 0 && (v1 < 0 || freq[i] <= freq[v1])) v1 = i;
            for (int i = 0; i < 257; i++)
                if (freq[i] > 0 && i != v1 && (v2 < 0 || freq[i] <= freq[v2])) v2 = i;
            if (v2 < 0) break;
            freq[v1] += freq[v2];
            freq[v2] = 0;
            codeSize[v1]++;
            while (others[v1] >= 0) { v1 = others[v1]; codeSize[v1]++; }
            others[v1] = v2;
            codeSize[v2]++;
            while (others[v2] >= 0) { v2 = others[v2]; codeSize[v2]++; }
        }
        var bits = new int[33];
        for (int i = 0; i < 257; i++)
            if (codeSize[i] > 0) bits[Math.Min(codeSize[i], 32)]++;
        for (int i = 32; i > 16; i--)
        {
            while (bits[i] > 0)
            {
                int j = i - 2;
                while (bits[j] == 0) j--;
                bits[i] -= 2;
                bits[i - 1]++;
                bits[j + 1] += 2;
                bits[j]--;
            }
        }
        int last = 16;
        while (bits[last] == 0) last--;
        bits[last]--; // drop the reserved symbol
        var values = Enumerable.Range(0, 256).Where(i => codeSize[i] > 0).OrderBy(i => codeSize[i]).ThenBy(i => i).ToArray();
        return (bits[..17], values);
    }

    private static void WriteMarker(Stream s, byte marker)
    {
        s.WriteByte(0xFF);
        s.WriteByte(marker);
    }

    private static void WriteUInt16(Stream s, int v)
    {
        s.WriteByte((byte)(v >> 8));
        s.WriteByte((byte)v);
    }

    /// <summary>MSB-first bit packing with 0xFF byte stuffing; the last byte is padded with 1-bits (F.1.2.3).</summary>
    private sealed class BitWriter(Stream output)
    {
        private ulong _acc;
        private int _count;

        public void Write(int value, int length)
        {
            _acc = (_acc << length) | ((uint)value & ((1u << length) - 1));
            _count += length;
            while (_count >= 8)
            {
                _count -= 8;
                var b = (byte)(_acc >> _count);
                output.WriteByte(b);
                if (b == 0xFF) output.WriteByte(0);
            }
        }

        public void Flush()
        {
            if (_count > 0) Write((1 << (8 - _count)) - 1, 8 - _count);
        }
    }
}
