namespace Kaapana.Dicom;

/// <summary>One data element of a data set: a tag, its VR and a value (bytes, items or fragments).</summary>
public abstract class DicomElement(DicomTag tag, DicomVR vr)
{
    public DicomTag Tag { get; } = tag;
    public DicomVR VR { get; } = vr;

    public override string ToString() => $"{Tag} {VR}";
}

/// <summary>An element whose value is a byte string (every VR except SQ and encapsulated pixel data).</summary>
public sealed class DicomValueElement(DicomTag tag, DicomVR vr, DicomBuffer buffer) : DicomElement(tag, vr)
{
    public DicomBuffer Buffer { get; } = buffer;
    public long Length => Buffer.Length;
    public bool IsEmpty => Buffer.Length == 0;
    public ReadOnlySpan<byte> Span => Buffer.Memory.Span;

    /// <summary>Number of values, as dcmdump counts them (VM).</summary>
    public int Count(DicomCharacterSet? charset = null)
    {
        if (Length == 0) return 0;
        if (VR.IsString())
        {
            if (VR.IsSingleValuedText()) return 1;
            // Backslash (0x5C) never occurs inside a multi-byte char of the sets DICOM allows for multi-valued VRs,
            // except the Japanese/Chinese ones whose bytes are all >= 0x80 or escaped ASCII-safe.
            int n = 1;
            foreach (var b in Span) if (b == (byte)'\\') n++;
            return n;
        }
        if (VR == DicomVR.AT) return (int)(Length / 4);
        var size = VR.ValueSize();
        return VR is DicomVR.OB or DicomVR.OW or DicomVR.OD or DicomVR.OF or DicomVR.OL or DicomVR.OV or DicomVR.UN
            ? 1
            : size == 0 ? 1 : (int)(Length / size);
    }

    public override string ToString() => $"{Tag} {VR} [{Length} bytes]";
}

/// <summary>A sequence of items (SQ), each item a nested data set.</summary>
public sealed class DicomSequence : DicomElement
{
    public DicomSequence(DicomTag tag, IEnumerable<DicomDataset>? items = null) : base(tag, DicomVR.SQ)
    {
        Items = new ItemList(this);
        if (items != null) foreach (var i in items) Items.Add(i);
    }

    public IList<DicomDataset> Items { get; }

    /// <summary>Set by the data set that holds this sequence, so items inherit its Specific Character Set.</summary>
    public DicomDataset? Owner { get; internal set; }

    public override string ToString() => $"{Tag} SQ [{Items.Count} items]";

    private sealed class ItemList(DicomSequence seq) : System.Collections.ObjectModel.Collection<DicomDataset>
    {
        protected override void InsertItem(int index, DicomDataset item)
        {
            item.Parent = seq;
            base.InsertItem(index, item);
        }
        protected override void SetItem(int index, DicomDataset item)
        {
            item.Parent = seq;
            base.SetItem(index, item);
        }
    }
}

/// <summary>Encapsulated pixel data (PS3.5 A.4): a basic offset table item followed by fragments, kept byte for byte.</summary>
public sealed class DicomFragmentSequence(DicomTag tag, DicomVR vr, DicomBuffer offsetTable, IEnumerable<DicomBuffer>? fragments = null)
    : DicomElement(tag, vr)
{
    public DicomBuffer OffsetTable { get; set; } = offsetTable;
    public List<DicomBuffer> Fragments { get; } = fragments?.ToList() ?? [];

    /// <summary>Basic Offset Table entries (may be empty: then frames are found via the Extended Offset Table or by fragment scanning).</summary>
    public uint[] BasicOffsets
    {
        get
        {
            var span = OffsetTable.Memory.Span;
            var result = new uint[span.Length / 4];
            for (int i = 0; i < result.Length; i++)
                result[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(span[(i * 4)..]);
            return result;
        }
    }

    public override string ToString() => $"{Tag} {VR} [encapsulated, {Fragments.Count} fragments]";
}
