using System.Buffers.Binary;

namespace Kaapana.Dicom.Imaging;

/// <summary>
/// A LUT of PS3.3 C.11.1 / C.11.2 / C.7.6.3.1.5: descriptor (entry count, first input value mapped, bits per entry) and
/// entries. Inputs below the first mapped value take the first entry, inputs past the last take the last entry.
/// </summary>
public sealed class LookupTable
{
    public LookupTable(int firstMapped, int bitsPerEntry, ushort[] entries, string? explanation = null)
    {
        if (entries.Length == 0) throw new DicomPixelDataException("A lookup table needs at least one entry.");
        FirstMapped = firstMapped;
        BitsPerEntry = bitsPerEntry;
        Entries = entries;
        Explanation = explanation;
    }

    public int FirstMapped { get; }
    public int BitsPerEntry { get; }
    public ushort[] Entries { get; }
    public string? Explanation { get; }
    public int MaxOutput => (1 << BitsPerEntry) - 1;

    public ushort this[double input]
    {
        get
        {
            var i = input - FirstMapped;
            if (i <= 0) return Entries[0];
            if (i >= Entries.Length - 1) return Entries[^1];
            return Entries[(int)i];
        }
    }

    /// <summary>
    /// Reads a LUT item (descriptor + data) as used by the Modality LUT and VOI LUT sequences. <paramref name="signedInput"/>
    /// says whether the second descriptor value (first mapped input) is to be read as signed (it follows Pixel Representation).
    /// </summary>
    public static LookupTable FromItem(DicomDataset item, bool signedInput) =>
        FromDescriptorAndData(item, DicomTags.LUTDescriptor, DicomTags.LUTData, signedInput, item.GetString(DicomTags.LUTExplanation));

    public static LookupTable FromDescriptorAndData(DicomDataset ds, DicomTag descriptorTag, DicomTag dataTag, bool signedInput, string? explanation = null)
    {
        var (count, first, bits) = ReadDescriptor(ds, descriptorTag, signedInput);
        if (!ds.TryGetElement(dataTag, out var e) || e is not DicomValueElement v || v.Length == 0)
            throw new DicomPixelDataException($"LUT data {dataTag} is missing.");
        return new LookupTable(first, bits, ReadEntries(v.Span, count, bits, dataTag), explanation);
    }

    internal static (int Count, int First, int Bits) ReadDescriptor(DicomDataset ds, DicomTag tag, bool signedInput)
    {
        if (!ds.TryGetElement(tag, out var e) || e is not DicomValueElement v || v.Length < 6)
            throw new DicomPixelDataException($"LUT descriptor {tag} is missing or short.");
        var s = v.Span;
        int count = BinaryPrimitives.ReadUInt16LittleEndian(s);
        if (count == 0) count = 65536; // PS3.3 C.11.1.1.1: 0 means 2^16 entries
        int first = signedInput ? BinaryPrimitives.ReadInt16LittleEndian(s[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(s[2..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(s[4..]);
        if (bits is < 1 or > 16) bits = 16;
        return (count, first, bits);
    }

    /// <summary>LUT data: one 16-bit word per entry, or — for 8-bit tables of exactly <paramref name="count"/> bytes — one byte per entry.</summary>
    internal static ushort[] ReadEntries(ReadOnlySpan<byte> data, int count, int bits, DicomTag tag)
    {
        var entries = new ushort[count];
        if (bits <= 8 && data.Length == count + (count & 1) && data.Length < 2 * count)
        {
            for (int i = 0; i < count; i++) entries[i] = data[i];
            return entries;
        }
        if (data.Length < 2 * count) throw new DicomPixelDataException($"LUT data {tag} holds {data.Length} bytes for {count} entries.");
        for (int i = 0; i < count; i++) entries[i] = BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]);
        if (bits <= 8 && entries.Any(x => x > 255))
        {
            // 8-bit entries packed two per word (seen in the wild): low byte first.
            for (int i = 0; i < count; i++) entries[i] = data[i];
        }
        return entries;
    }
}

/// <summary>The three tables of PALETTE COLOR images (PS3.3 C.7.6.3.1.5), normal or segmented (C.7.9.2).</summary>
public sealed class PaletteColorLut
{
    public PaletteColorLut(LookupTable red, LookupTable green, LookupTable blue)
    {
        Red = red;
        Green = green;
        Blue = blue;
    }

    public LookupTable Red { get; }
    public LookupTable Green { get; }
    public LookupTable Blue { get; }

    public static PaletteColorLut FromDataset(DicomDataset ds)
    {
        bool signed = ds.GetOrDefault(DicomTags.PixelRepresentation, 0) == 1;
        return new PaletteColorLut(
            Read(ds, DicomTags.RedPaletteColorLookupTableDescriptor, DicomTags.RedPaletteColorLookupTableData, DicomTags.SegmentedRedPaletteColorLookupTableData, signed),
            Read(ds, DicomTags.GreenPaletteColorLookupTableDescriptor, DicomTags.GreenPaletteColorLookupTableData, DicomTags.SegmentedGreenPaletteColorLookupTableData, signed),
            Read(ds, DicomTags.BluePaletteColorLookupTableDescriptor, DicomTags.BluePaletteColorLookupTableData, DicomTags.SegmentedBluePaletteColorLookupTableData, signed));
    }

    private static LookupTable Read(DicomDataset ds, DicomTag descriptor, DicomTag data, DicomTag segmented, bool signed)
    {
        if (ds.Contains(data)) return LookupTable.FromDescriptorAndData(ds, descriptor, data, signed);
        if (!ds.TryGetElement(segmented, out var e) || e is not DicomValueElement v)
            throw new DicomPixelDataException($"PALETTE COLOR image without {data} or {segmented}.");
        var (count, first, bits) = LookupTable.ReadDescriptor(ds, descriptor, signed);
        return new LookupTable(first, bits, ExpandSegmented(v.Span, count), null);
    }

    /// <summary>Expands segmented LUT data (PS3.3 C.7.9.2): discrete (0), linear (1) and indirect (2) segments.</summary>
    public static ushort[] ExpandSegmented(ReadOnlySpan<byte> bytes, int count)
    {
        var words = new ushort[bytes.Length / 2];
        for (int i = 0; i < words.Length; i++) words[i] = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]);
        var output = new List<ushort>(count);
        var segmentStarts = new List<int>(); // word offsets of segments, for indirect references
        ExpandInto(words, output, segmentStarts, 0, words.Length, depth: 0);
        if (output.Count < count)
        {
            var last = output.Count > 0 ? output[^1] : (ushort)0;
            while (output.Count < count) output.Add(last);
        }
        return output.Take(count).ToArray();
    }

    private static void ExpandInto(ushort[] w, List<ushort> output, List<int> segmentStarts, int start, int end, int depth)
    {
        if (depth > 2) throw new DicomPixelDataException("Segmented LUT: indirect segments nested too deeply.");
        int i = start;
        while (i + 1 < end)
        {
            if (depth == 0) segmentStarts.Add(i);
            int opcode = w[i], length = w[i + 1];
            switch (opcode)
            {
                case 0: // discrete
                    if (i + 2 + length > end) throw new DicomPixelDataException("Segmented LUT: discrete segment runs past the data.");
                    for (int k = 0; k < length; k++) output.Add(w[i + 2 + k]);
                    i += 2 + length;
                    break;
                case 1: // linear from the previous value
                {
                    if (output.Count == 0 || i + 2 >= end) throw new DicomPixelDataException("Segmented LUT: linear segment without a start value.");
                    double y0 = output[^1], y1 = w[i + 2];
                    for (int k = 1; k <= length; k++) output.Add((ushort)Math.Round(y0 + (y1 - y0) * k / length));
                    i += 3;
                    break;
                }
                case 2: // indirect: copy `length` segments starting at a byte offset
                {
                    if (i + 3 >= end) throw new DicomPixelDataException("Segmented LUT: indirect segment is short.");
                    long offset = w[i + 2] | ((long)w[i + 3] << 16);
                    int from = (int)(offset / 2);
                    int idx = segmentStarts.IndexOf(from);
                    if (idx < 0) throw new DicomPixelDataException("Segmented LUT: indirect segment points nowhere.");
                    for (int k = 0; k < length && idx + k < segmentStarts.Count; k++)
                    {
                        int s = segmentStarts[idx + k];
                        int e = idx + k + 1 < segmentStarts.Count ? segmentStarts[idx + k + 1] : i;
                        ExpandInto(w, output, segmentStarts, s, e, depth + 1);
                    }
                    i += 4;
                    break;
                }
                default:
                    throw new DicomPixelDataException($"Segmented LUT: unknown segment type {opcode}.");
            }
            if (output.Count > 1 << 20) throw new DicomPixelDataException("Segmented LUT expands to too many entries.");
        }
    }
}
