namespace Kaapana.Dicom.Imaging.Codecs;

/// <summary>
/// Decoder for JPEG lossless, process 14 (ISO 10918-1 Annex H): Huffman coding, predictors 1-7, point transform,
/// restart intervals, 1-4 interleaved components without sub-sampling. Our own, because JpegLibrary 0.4.32 applies the
/// two-dimensional predictors (2-7) on the first line and after restarts, where H.1.2.1 prescribes predictor 1.
/// Sample arithmetic is modulo 2^16, so 16-bit data decodes exactly.
/// </summary>
internal static class JpegLosslessDecoder
{
    public readonly record struct Result(int Width, int Height, int Components, int Precision, int[][] Planes);

    /// <summary>True when the stream's first frame header is SOF3 (lossless, Huffman).</summary>
    public static bool IsLossless(ReadOnlySpan<byte> data)
    {
        int i = 2;
        while (i + 4 <= data.Length)
        {
            if (data[i] != 0xFF) return false;
            byte m = data[i + 1];
            if (m == 0xFF) { i++; continue; }
            if (m is 0xC3) return true;
            if (m is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC) return false;
            i += 2 + ((data[i + 2] << 8) | data[i + 3]);
        }
        return false;
    }

    private sealed class Huffman
    {
        public readonly int[] MaxCode = new int[18];
        public readonly int[] ValOffset = new int[18];
        public byte[] Values = [];
    }

    public static Result Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4 || data[0] != 0xFF || data[1] != 0xD8) throw new InvalidDataException("Missing JPEG SOI marker.");
        var tables = new Huffman?[4];
        int restartInterval = 0;
        int width = 0, height = 0, precision = 0, nc = 0;
        var componentIds = new int[4];
        int[][]? planes = null;
        var scanned = new bool[4];
        int pos = 2;
        while (pos + 4 <= data.Length)
        {
            if (data[pos] != 0xFF) throw new InvalidDataException($"Expected a marker at byte {pos}.");
            byte marker = data[pos + 1];
            if (marker == 0xFF) { pos++; continue; }
            if (marker == 0xD9) break;
            int length = (data[pos + 2] << 8) | data[pos + 3];
            if (length < 2 || pos + 2 + length > data.Length) throw new InvalidDataException("Marker segment runs past the data.");
            var seg = data.Slice(pos + 4, length - 2);
            pos += 2 + length;
            switch (marker)
            {
                case 0xC3:
                    if (seg.Length < 6) throw new InvalidDataException("Short SOF3.");
                    precision = seg[0];
                    height = (seg[1] << 8) | seg[2];
                    width = (seg[3] << 8) | seg[4];
                    nc = seg[5];
                    if (precision is < 2 or > 16 || width == 0 || height == 0 || nc is < 1 or > 4 || seg.Length < 6 + 3 * nc)
                        throw new InvalidDataException("Invalid SOF3 parameters.");
                    for (int c = 0; c < nc; c++)
                    {
                        componentIds[c] = seg[6 + 3 * c];
                        if (seg[7 + 3 * c] != 0x11) throw new InvalidDataException("Sub-sampled lossless JPEG is not supported.");
                    }
                    planes = new int[nc][];
                    for (int c = 0; c < nc; c++) planes[c] = new int[(long)width * height];
                    break;
                case 0xC4:
                {
                    int i = 0;
                    while (i + 17 <= seg.Length)
                    {
                        int id = seg[i] & 0x0F;
                        if (id > 3) throw new InvalidDataException("Invalid Huffman table id.");
                        var h = new Huffman();
                        int total = 0;
                        for (int l = 1; l <= 16; l++) total += seg[i + l];
                        if (i + 17 + total > seg.Length || total > 256) throw new InvalidDataException("Huffman table runs past its segment.");
                        h.Values = seg.Slice(i + 17, total).ToArray();
                        int code = 0, k = 0;
                        for (int l = 1; l <= 16; l++)
                        {
                            int count = seg[i + l];
                            h.ValOffset[l] = k - code;
                            code += count;
                            k += count;
                            h.MaxCode[l] = count > 0 ? code - 1 : -1;
                            code <<= 1;
                        }
                        h.MaxCode[17] = int.MaxValue;
                        tables[id] = h;
                        i += 17 + total;
                    }
                    break;
                }
                case 0xDD:
                    if (seg.Length < 2) throw new InvalidDataException("Short DRI.");
                    restartInterval = (seg[0] << 8) | seg[1];
                    break;
                case 0xDA:
                {
                    if (planes == null) throw new InvalidDataException("SOS before SOF3.");
                    int ns = seg[0];
                    if (ns < 1 || ns > nc || seg.Length < 1 + 2 * ns + 3) throw new InvalidDataException("Invalid SOS.");
                    var scanComponents = new int[ns];
                    var scanTables = new Huffman[ns];
                    for (int s = 0; s < ns; s++)
                    {
                        int id = seg[1 + 2 * s];
                        int index = Array.IndexOf(componentIds, id, 0, nc);
                        if (index < 0) throw new InvalidDataException("SOS names an unknown component.");
                        scanComponents[s] = index;
                        scanTables[s] = tables[seg[2 + 2 * s] >> 4] ?? throw new InvalidDataException("Huffman table not defined.");
                    }
                    int predictor = seg[1 + 2 * ns];
                    int pointTransform = seg[3 + 2 * ns] & 0x0F;
                    if (predictor > 7 || pointTransform >= precision) throw new InvalidDataException("Invalid predictor or point transform.");
                    foreach (var c in scanComponents) scanned[c] = true;
                    pos = DecodeScan(data, pos, planes, scanComponents, scanTables, width, height, precision, predictor, pointTransform, restartInterval);
                    break;
                }
                default:
                    if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                        throw new InvalidDataException($"JPEG process SOF{marker - 0xC0} is not lossless process 14.");
                    break; // APPn, COM, DQT etc.: skip
            }
        }
        if (planes == null) throw new InvalidDataException("No SOF3 frame.");
        for (int c = 0; c < nc; c++)
            if (!scanned[c]) throw new InvalidDataException($"Component {c + 1} has no scan (truncated data).");
        return new Result(width, height, nc, precision, planes);
    }

    private ref struct BitReader(ReadOnlySpan<byte> data, int position)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        public int Position = position;
        private uint _acc;
        private int _bits;
        public bool HitMarker;

        private void Fill()
        {
            while (_bits <= 24)
            {
                int b = 0;
                if (!HitMarker && Position < _data.Length)
                {
                    b = _data[Position];
                    if (b == 0xFF)
                    {
                        int next = Position + 1 < _data.Length ? _data[Position + 1] : 0xD9;
                        if (next == 0x00) Position += 2;
                        else { HitMarker = true; b = 0; }
                    }
                    else Position++;
                }
                else if (!HitMarker && Position >= _data.Length) throw new InvalidDataException("Entropy-coded data ends early.");
                _acc |= (uint)b << (24 - _bits);
                _bits += 8;
            }
        }

        public int ReadBits(int n)
        {
            if (n == 0) return 0;
            Fill();
            int v = (int)(_acc >> (32 - n));
            _acc <<= n;
            _bits -= n;
            return v;
        }

        public int ReadBit() => ReadBits(1);

        /// <summary>Skips to the restart marker and over it.</summary>
        public void Restart()
        {
            _acc = 0;
            _bits = 0;
            HitMarker = false;
            while (Position + 1 < _data.Length && !(_data[Position] == 0xFF && _data[Position + 1] is >= 0xD0 and <= 0xD7)) Position++;
            if (Position + 1 >= _data.Length) throw new InvalidDataException("Missing restart marker.");
            Position += 2;
        }

        /// <summary>Position of the next marker after the scan.</summary>
        public int EndOfScan()
        {
            int p = Position;
            while (p + 1 < _data.Length && !(_data[p] == 0xFF && _data[p + 1] != 0x00 && _data[p + 1] is not (>= 0xD0 and <= 0xD7))) p++;
            return p;
        }
    }

    private static int DecodeSymbol(ref BitReader reader, Huffman h)
    {
        int code = reader.ReadBit();
        int length = 1;
        while (code > h.MaxCode[length])
        {
            code = (code << 1) | reader.ReadBit();
            if (++length > 16) throw new InvalidDataException("Invalid Huffman code.");
        }
        int index = code + h.ValOffset[length];
        if ((uint)index >= (uint)h.Values.Length) throw new InvalidDataException("Invalid Huffman code.");
        return h.Values[index];
    }

    private static int DecodeScan(ReadOnlySpan<byte> data, int start, int[][] planes, int[] components, Huffman[] tables,
        int width, int height, int precision, int predictor, int pt, int restartInterval)
    {
        var reader = new BitReader(data, start);
        int initial = 1 << (precision - pt - 1);
        int ns = components.Length;
        int mcusToRestart = restartInterval;
        bool atRestart = true, firstLine = true; // H.1.2.1: 2^(P-Pt-1) at a (re)start, then Ra for the rest of that line
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (restartInterval > 0)
                {
                    if (mcusToRestart == 0)
                    {
                        reader.Restart();
                        mcusToRestart = restartInterval;
                        atRestart = firstLine = true;
                    }
                    mcusToRestart--;
                }
                long p = (long)y * width + x;
                for (int s = 0; s < ns; s++)
                {
                    var plane = planes[components[s]];
                    int ssss = DecodeSymbol(ref reader, tables[s]);
                    int diff;
                    if (ssss == 0) diff = 0;
                    else if (ssss == 16) diff = 32768;
                    else if (ssss > 16) throw new InvalidDataException("Invalid difference category.");
                    else
                    {
                        diff = reader.ReadBits(ssss);
                        if (diff < 1 << (ssss - 1)) diff -= (1 << ssss) - 1;
                    }
                    int px;
                    if (atRestart) px = initial;
                    else if (firstLine || x > 0 && y == 0) px = plane[p - 1];
                    else if (x == 0) px = plane[p - width];
                    else
                    {
                        int ra = plane[p - 1], rb = plane[p - width], rc = plane[p - width - 1];
                        px = predictor switch
                        {
                            1 => ra,
                            2 => rb,
                            3 => rc,
                            4 => ra + rb - rc,
                            5 => ra + ((rb - rc) >> 1),
                            6 => rb + ((ra - rc) >> 1),
                            7 => (ra + rb) >> 1,
                            _ => 0,
                        };
                    }
                    plane[p] = (px + diff) & 0xFFFF;
                }
                atRestart = false;
                if (x == width - 1) firstLine = false;
            }
        }
        // Undo the point transform.
        if (pt > 0)
            foreach (var c in components)
                for (long i = 0; i < planes[c].Length; i++) planes[c][i] = (planes[c][i] << pt) & 0xFFFF;
        return reader.EndOfScan();
    }

}
