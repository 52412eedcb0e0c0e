using System.Buffers.Binary;

namespace Kaapana.Dicom.Imaging;

/// <summary>How the frames of encapsulated pixel data were located.</summary>
public enum FrameIndexSource
{
    /// <summary>Native (uncompressed) pixel data: frames follow each other at fixed size.</summary>
    Native,
    /// <summary>Extended Offset Table (7FE0,0001) with its lengths (7FE0,0002).</summary>
    ExtendedOffsetTable,
    /// <summary>Basic Offset Table (the first item of the encapsulated pixel data).</summary>
    BasicOffsetTable,
    /// <summary>A single frame: all fragments belong to it.</summary>
    SingleFrame,
    /// <summary>As many fragments as frames: one fragment per frame (PS3.5 A.4 recommends it; DCMTK and pydicom assume it).</summary>
    OneFragmentPerFrame,
    /// <summary>No usable table: frame starts found by scanning fragments for the codec's start marker.</summary>
    FragmentScan,
}

/// <summary>Fragments [<see cref="FirstFragment"/>, <see cref="FirstFragment"/> + <see cref="FragmentCount"/>) of one frame.</summary>
public readonly record struct FrameFragments(int FirstFragment, int FragmentCount, long Length);

/// <summary>
/// The frames of a data set's Pixel Data (7FE0,0010), native or encapsulated, as they are stored. Nothing is decoded or
/// copied up front: native frames are sliced (or read from the file when the value was left on disk), encapsulated
/// frames are located once from the offset tables or the fragments and joined on request. Decoding is the codecs' job
/// (see <c>Kaapana.Dicom.Imaging.Codecs.DicomCodecs</c>).
/// </summary>
public sealed class DicomPixelData
{
    private readonly DicomValueElement? _native;
    private readonly DicomFragmentSequence? _encapsulated;
    private readonly FrameFragments[] _frames = [];
    private readonly bool _swap32Halves;

    private DicomPixelData(DicomDataset dataset, DicomTransferSyntax syntax, PixelDataInfo info, DicomElement element)
    {
        Dataset = dataset;
        TransferSyntax = syntax;
        Info = info;
        switch (element)
        {
            case DicomFragmentSequence f:
                _encapsulated = f;
                (_frames, IndexSource) = LocateFrames(dataset, f, info.NumberOfFrames, syntax);
                break;
            case DicomValueElement v:
                _native = v;
                IndexSource = FrameIndexSource.Native;
                long needed = (info.FrameBits * info.NumberOfFrames + 7) / 8;
                if (v.Length < needed)
                    throw new DicomPixelDataException($"Pixel Data holds {v.Length} bytes but {info.NumberOfFrames} frame(s) of {info.Columns}x{info.Rows}x{info.SamplesPerPixel} at {info.BitsAllocated} bits need {needed}.");
                // Big endian OW data was swapped as 16-bit words by the reader; 32-bit samples also need their halves swapped.
                _swap32Halves = syntax.IsBigEndian && info.BitsAllocated == 32 && v.VR == DicomVR.OW;
                break;
            default:
                throw new DicomPixelDataException($"Pixel Data is a {element.VR} element, not pixel values.");
        }
    }

    public DicomDataset Dataset { get; }
    public DicomTransferSyntax TransferSyntax { get; }
    public PixelDataInfo Info { get; }
    public bool IsEncapsulated => _encapsulated != null;
    public int FrameCount => Info.NumberOfFrames;
    public FrameIndexSource IndexSource { get; }

    /// <summary>The fragments of each frame (empty for native pixel data).</summary>
    public IReadOnlyList<FrameFragments> EncapsulatedFrames => _frames;

    public static DicomPixelData Create(DicomFile file) => Create(file.Dataset, file.TransferSyntax);

    public static DicomPixelData Create(DicomDataset dataset, DicomTransferSyntax syntax)
    {
        if (!dataset.TryGetElement(DicomTags.PixelData, out var element))
            throw new DicomPixelDataException("The data set has no Pixel Data (7FE0,0010).");
        var info = PixelDataInfo.FromDataset(dataset);
        if (element is DicomFragmentSequence && !syntax.IsEncapsulated)
            throw new DicomPixelDataException($"Pixel Data is encapsulated but the transfer syntax {syntax.Name} is not.");
        return new DicomPixelData(dataset, syntax, info, element);
    }

    /// <summary>
    /// Frame <paramref name="index"/> as stored: for native data the frame's bytes in little-endian order (a 1-bit frame
    /// shifted to start on a byte boundary), for encapsulated data the compressed bitstream (its fragments joined).
    /// </summary>
    public ReadOnlyMemory<byte> GetFrame(int index)
    {
        if ((uint)index >= (uint)FrameCount) throw new ArgumentOutOfRangeException(nameof(index), $"Frame {index} of {FrameCount}.");
        return _encapsulated != null ? GetEncapsulatedFrame(index) : GetNativeFrame(index);
    }

    private ReadOnlyMemory<byte> GetNativeFrame(int index)
    {
        var buffer = _native!.Buffer;
        var info = Info;
        if (info.BitsAllocated == 1)
        {
            long bitStart = info.FrameBits * index;
            long byteStart = bitStart / 8, byteCount = (bitStart % 8 + info.FrameBits + 7) / 8;
            var raw = ReadRange(buffer, byteStart, byteCount);
            int shift = (int)(bitStart % 8);
            if (shift == 0 && byteCount == info.FrameLength) return raw;
            var src = raw.Span;
            var dst = new byte[info.FrameLength];
            for (int i = 0; i < dst.Length; i++)
            {
                int lo = src[i] >> shift;
                int hi = i + 1 < src.Length ? src[i + 1] << (8 - shift) : 0;
                dst[i] = (byte)(shift == 0 ? src[i] : lo | hi);
            }
            // Bits past the frame's end belong to the next frame: clear them.
            int tail = (int)(info.FrameBits % 8);
            if (tail != 0) dst[^1] &= (byte)((1 << tail) - 1);
            return dst;
        }
        var frame = ReadRange(buffer, info.FrameLength * index, info.FrameLength);
        if (!_swap32Halves) return frame;
        var copy = frame.ToArray();
        for (int i = 0; i + 3 < copy.Length; i += 4)
        {
            (copy[i], copy[i + 2]) = (copy[i + 2], copy[i]);
            (copy[i + 1], copy[i + 3]) = (copy[i + 3], copy[i + 1]);
        }
        return copy;
    }

    /// <summary>Reads part of a value; a value left in its file is read from there, not loaded whole.</summary>
    private static ReadOnlyMemory<byte> ReadRange(DicomBuffer buffer, long offset, long count)
    {
        if (buffer is FileRangeBuffer { IsInMemory: false } file && !(offset == 0 && count == file.Length))
        {
            using var s = file.OpenRead();
            if (s.CanSeek)
            {
                s.Position = offset;
                var data = new byte[count];
                s.ReadExactly(data);
                return data;
            }
        }
        return buffer.Memory.Slice((int)offset, (int)count);
    }

    private ReadOnlyMemory<byte> GetEncapsulatedFrame(int index)
    {
        var (first, count, length) = _frames[index];
        var fragments = _encapsulated!.Fragments;
        if (count == 1) return fragments[first].Memory;
        if (length > Array.MaxLength) throw new DicomPixelDataException($"Frame {index} of {length} bytes is too large.");
        var result = new byte[length];
        int at = 0;
        for (int i = first; i < first + count; i++)
        {
            var m = fragments[i].Memory.Span;
            m.CopyTo(result.AsSpan(at));
            at += m.Length;
        }
        return result;
    }

    // ---- locating encapsulated frames ----

    private static (FrameFragments[], FrameIndexSource) LocateFrames(DicomDataset ds, DicomFragmentSequence seq, int frameCount, DicomTransferSyntax syntax)
    {
        var fragments = seq.Fragments;
        if (fragments.Count == 0) throw new DicomPixelDataException("Encapsulated Pixel Data has no fragments.");
        // Offsets in the tables count from the first fragment's item tag: each fragment takes 8 header bytes plus its length.
        var starts = new long[fragments.Count + 1];
        for (int i = 0; i < fragments.Count; i++) starts[i + 1] = starts[i] + 8 + fragments[i].Length;

        if (TryExtendedOffsetTable(ds, starts, frameCount, out var eot)) return (eot, FrameIndexSource.ExtendedOffsetTable);
        var bot = seq.BasicOffsets;
        if (bot.Length > 0 && TryFromOffsets(bot.Select(o => (long)o).ToArray(), starts, frameCount, out var fromBot))
            return (fromBot, FrameIndexSource.BasicOffsetTable);
        if (frameCount == 1) return ([Range(starts, 0, fragments.Count)], FrameIndexSource.SingleFrame);
        if (fragments.Count == frameCount)
            return (Enumerable.Range(0, frameCount).Select(i => Range(starts, i, 1)).ToArray(), FrameIndexSource.OneFragmentPerFrame);
        if (fragments.Count < frameCount)
            throw new DicomPixelDataException($"Encapsulated Pixel Data has {fragments.Count} fragments for {frameCount} frames and no usable offset table.");

        // Scan: a fragment that begins with the codec's start marker begins a frame (pydicom and DCMTK do the same).
        var frameStarts = new List<int>();
        for (int i = 0; i < fragments.Count; i++)
            if (StartsFrame(fragments[i], syntax)) frameStarts.Add(i);
        if (frameStarts.Count != frameCount || frameStarts[0] != 0)
            throw new DicomPixelDataException(
                $"Cannot tell the {frameCount} frames apart among {fragments.Count} fragments: no offset table and {frameStarts.Count} fragments start with a frame marker.");
        var result = new FrameFragments[frameCount];
        for (int f = 0; f < frameCount; f++)
        {
            int end = f + 1 < frameCount ? frameStarts[f + 1] : fragments.Count;
            result[f] = Range(starts, frameStarts[f], end - frameStarts[f]);
        }
        return (result, FrameIndexSource.FragmentScan);
    }

    private static FrameFragments Range(long[] starts, int first, int count) =>
        new(first, count, starts[first + count] - starts[first] - 8L * count);

    private static bool TryExtendedOffsetTable(DicomDataset ds, long[] starts, int frameCount, out FrameFragments[] frames)
    {
        frames = [];
        if (!ds.TryGetElement(DicomTags.ExtendedOffsetTable, out var e) || e is not DicomValueElement { Length: > 0 } v) return false;
        var span = v.Span;
        var offsets = new long[span.Length / 8];
        for (int i = 0; i < offsets.Length; i++)
        {
            var o = BinaryPrimitives.ReadUInt64LittleEndian(span[(i * 8)..]);
            if (o > long.MaxValue) return false;
            offsets[i] = (long)o;
        }
        return TryFromOffsets(offsets, starts, frameCount, out frames);
    }

    /// <summary>Maps table offsets to fragment ranges; false when the table does not match the fragments (then other methods are tried).</summary>
    private static bool TryFromOffsets(long[] offsets, long[] starts, int frameCount, out FrameFragments[] frames)
    {
        frames = [];
        if (offsets.Length != frameCount) return false;
        var firstFragment = new int[frameCount];
        for (int f = 0; f < frameCount; f++)
        {
            int idx = Array.BinarySearch(starts, 0, starts.Length - 1, offsets[f]);
            if (idx < 0 || (f > 0 && idx <= firstFragment[f - 1])) return false;
            firstFragment[f] = idx;
        }
        if (firstFragment[0] != 0) return false;
        int fragmentCount = starts.Length - 1;
        frames = new FrameFragments[frameCount];
        for (int f = 0; f < frameCount; f++)
        {
            int end = f + 1 < frameCount ? firstFragment[f + 1] : fragmentCount;
            frames[f] = Range(starts, firstFragment[f], end - firstFragment[f]);
        }
        return true;
    }

    private static bool StartsFrame(DicomBuffer fragment, DicomTransferSyntax syntax)
    {
        Span<byte> head = stackalloc byte[12];
        int n = ReadHead(fragment, head);
        var h = head[..n];
        if (syntax.Uid == DicomTransferSyntax.RLELossless.Uid)
        {
            // RLE header: number of segments 1..15, first segment offset 64 (PS3.5 G.5).
            return n >= 8 && BinaryPrimitives.ReadUInt32LittleEndian(h) is >= 1 and <= 15 && BinaryPrimitives.ReadUInt32LittleEndian(h[4..]) == 64;
        }
        if (n >= 4 && h[0] == 0xFF && h[1] == 0x4F && h[2] == 0xFF && h[3] == 0x51) return true; // J2K codestream SOC SIZ
        if (n >= 12 && h[..12].SequenceEqual(Jp2Signature)) return true;
        return n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF; // JPEG / JPEG-LS SOI
    }

    private static ReadOnlySpan<byte> Jp2Signature => [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A];

    private static int ReadHead(DicomBuffer b, Span<byte> head)
    {
        if (b is FileRangeBuffer { IsInMemory: false } f)
        {
            using var s = f.OpenRead();
            return s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        var m = b.Memory.Span;
        int n = Math.Min(m.Length, head.Length);
        m[..n].CopyTo(head);
        return n;
    }
}
