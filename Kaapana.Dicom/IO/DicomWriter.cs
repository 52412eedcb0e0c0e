using System.Buffers.Binary;
using System.IO.Compression;

namespace Kaapana.Dicom;

/// <summary>
/// Encodes data sets in any uncompressed transfer syntax (and writes encapsulated pixel data through unchanged when the
/// target syntax is the file's own encapsulated one). Meta information is completed and its group length recomputed.
/// </summary>
public sealed class DicomWriter
{
    private readonly Stream _out;
    private readonly bool _explicit;
    private readonly bool _bigEndian;
    private readonly DicomWriteOptions _options;
    private readonly byte[] _scratch = new byte[12];

    private DicomWriter(Stream output, bool explicitVr, bool bigEndian, DicomWriteOptions options)
    {
        _out = output;
        _explicit = explicitVr;
        _bigEndian = bigEndian;
        _options = options;
    }

    public static void WriteFile(Stream stream, DicomFile file, DicomWriteOptions? options = null)
    {
        options ??= DicomWriteOptions.Default;
        if (file.IsPartial)
            throw new DicomException("This file was read only partially (e.g. stopped before pixel data); writing it would lose data.");
        var syntax = options.TransferSyntax ?? file.TransferSyntax;
        CheckTranscodable(file.Dataset, file.TransferSyntax, syntax);

        var meta = BuildMeta(file, syntax);
        if (options.WritePreamble)
        {
            var preamble = new byte[128];
            file.Preamble?.AsSpan(0, Math.Min(128, file.Preamble.Length)).CopyTo(preamble);
            stream.Write(preamble);
            stream.Write("DICM"u8);
        }
        new DicomWriter(stream, true, false, options).WriteDataset(meta);

        if (syntax.IsDeflated)
        {
            using var deflate = new DeflateStream(stream, CompressionLevel.Optimal, leaveOpen: true);
            using var buffered = new BufferedStream(deflate, 65536);
            new DicomWriter(buffered, true, false, options).WriteDataset(file.Dataset, topLevel: true);
        }
        else
        {
            new DicomWriter(stream, syntax.IsExplicitVR, syntax.IsBigEndian, options).WriteDataset(file.Dataset, topLevel: true);
        }
        stream.Flush();
    }

    /// <summary>Writes a bare data set (no preamble or meta), e.g. for a DIMSE message.</summary>
    public static void WriteDataset(Stream stream, DicomDataset dataset, DicomTransferSyntax syntax, DicomWriteOptions? options = null)
    {
        options ??= DicomWriteOptions.Default;
        if (syntax.IsDeflated)
        {
            using var deflate = new DeflateStream(stream, CompressionLevel.Optimal, leaveOpen: true);
            new DicomWriter(deflate, true, false, options).WriteDataset(dataset, topLevel: true);
        }
        else
        {
            new DicomWriter(stream, syntax.IsExplicitVR, syntax.IsBigEndian, options).WriteDataset(dataset, topLevel: true);
        }
    }

    private static void CheckTranscodable(DicomDataset ds, DicomTransferSyntax from, DicomTransferSyntax to)
    {
        bool hasFragments = ds.TryGetElement(DicomTags.PixelData, out var pd) && pd is DicomFragmentSequence;
        if (hasFragments && !to.IsEncapsulated)
            throw new DicomException($"Pixel data is compressed ({from.Name}); decode it before writing as {to.Name}.");
        if (pd is DicomValueElement { Length: > 0 } && to.IsEncapsulated)
            throw new DicomException($"Pixel data is not encapsulated; it cannot be written as {to.Name} without an imaging codec.");
        if (to.IsEncapsulated && from.Uid != to.Uid && ds.Contains(DicomTags.PixelData))
            throw new DicomException($"Cannot re-encode pixel data from {from.Name} to {to.Name} here; use an imaging codec.");
    }

    private static DicomDataset BuildMeta(DicomFile file, DicomTransferSyntax syntax)
    {
        var meta = new DicomDataset();
        foreach (var e in file.FileMetaInfo)
            if (e.Tag.Group == 0x0002 && e.Tag.Element != 0) meta.Set(e);
        meta.SetBytes(DicomTags.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 });
        void FromDataset(DicomTag metaTag, DicomTag dsTag)
        {
            // The data set's UID wins (it may have been edited); without one the original meta's stays. Neither: a Part 10 file
            // needs both (type 1, PS3.10 7.1), and inventing a UID (as dcmconv does) would give the instance a new identity.
            var v = file.Dataset.GetString(dsTag);
            if (v.Length > 0) meta.Set(metaTag, DicomVR.UI, v);
            else if (meta.GetString(metaTag).Length == 0)
                throw new DicomException($"Cannot write a Part 10 file: the data set has no {DicomDictionary.Lookup(dsTag)?.Name} {dsTag} "
                    + $"and the file meta information no {DicomDictionary.Lookup(metaTag)?.Name} {metaTag}.");
        }
        FromDataset(DicomTags.MediaStorageSOPClassUID, DicomTags.SOPClassUID);
        FromDataset(DicomTags.MediaStorageSOPInstanceUID, DicomTags.SOPInstanceUID);
        meta.Set(DicomTags.TransferSyntaxUID, DicomVR.UI, syntax.Uid);
        meta.Set(DicomTags.ImplementationClassUID, DicomVR.UI, DicomImplementation.ClassUid);
        meta.Set(DicomTags.ImplementationVersionName, DicomVR.SH, DicomImplementation.VersionName);

        var measure = new DicomWriter(Stream.Null, true, false, DicomWriteOptions.Default);
        long groupLength = 0;
        foreach (var e in meta) groupLength += measure.ElementLength(e);
        var gl = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(gl, (uint)groupLength);
        meta.SetBytes(new DicomTag(0x0002, 0x0000), DicomVR.UL, gl);
        return meta;
    }

    private void WriteDataset(DicomDataset ds, bool topLevel = false)
    {
        foreach (var e in ds)
        {
            // Group 0002 belongs in the meta information, which is written separately in explicit VR LE.
            if (topLevel && e.Tag.Group == 0x0002) continue;
            if (IsDataSetGroupLength(e.Tag))
            {
                if (!_options.KeepGroupLengths) continue;
                // The value read is stale once lengths change (other VR mode, padding, edits): recompute it.
                WriteHeader(e.Tag, DicomVR.UL, 4);
                WriteUInt32((uint)GroupLength(ds, e.Tag.Group));
                continue;
            }
            WriteElement(e, ds);
        }
    }

    /// <summary>Group length elements other than the meta group's (which BuildMeta recomputes) are retired (PS3.5 7.2).</summary>
    private static bool IsDataSetGroupLength(DicomTag tag) => tag.IsGroupLength && tag.Group != 0x0002;

    /// <summary>Encoded length of the elements of <paramref name="group"/> that follow its group length element.</summary>
    private long GroupLength(DicomDataset ds, ushort group)
    {
        long n = 0;
        foreach (var e in ds)
            if (e.Tag.Group == group && !e.Tag.IsGroupLength) n += ElementLength(e);
        if (n > uint.MaxValue) throw new DicomException($"Group {group:X4} is too long for a group length element.");
        return n;
    }

    private DicomVR EffectiveVR(DicomElement e)
    {
        var vr = e.VR == DicomVR.None ? DicomVR.UN : e.VR;
        // A value too long for a 16-bit length field can only travel as UN (PS3.5 6.2.2).
        if (_explicit && !vr.HasLongLength() && e is DicomValueElement v && v.Length > 0xFFFE) return DicomVR.UN;
        return vr;
    }

    private void WriteElement(DicomElement e, DicomDataset owner)
    {
        var vr = EffectiveVR(e);
        switch (e)
        {
            case DicomValueElement v:
            {
                // Implicit VR readers take the VR from the dictionary: a value where it expects items would be parsed as items.
                if (!_explicit && v.Length > 0 && DicomDictionary.Lookup(v.Tag)?.VRs is [DicomVR.SQ])
                    throw new DicomException($"{v.Tag} holds a {v.VR} value where the dictionary expects a sequence; implicit VR cannot encode that (write explicit VR).");
                long len = v.Length + (v.Length & 1);
                WriteHeader(e.Tag, vr, len);
                WriteValue(v, vr);
                break;
            }
            case DicomSequence sq:
            {
                bool undefined = UndefinedLength(sq);
                WriteHeader(e.Tag, DicomVR.SQ, undefined ? 0xFFFFFFFF : SequenceContentLength(sq));
                foreach (var item in sq.Items) WriteItem(item);
                if (undefined) WriteDelimiter(DicomTag.SequenceDelimitationItem);
                break;
            }
            case DicomFragmentSequence f:
            {
                WriteHeader(e.Tag, vr, 0xFFFFFFFF);
                WriteFragment(f.OffsetTable);
                foreach (var frag in f.Fragments) WriteFragment(frag);
                WriteDelimiter(DicomTag.SequenceDelimitationItem);
                break;
            }
        }
    }

    /// <summary>
    /// In implicit VR a reader knows an element is a sequence only from its dictionary, or from an undefined length
    /// (PS3.5 7.5.1, and CP-246 for UN). Private and unknown tags therefore always get an undefined length there;
    /// with a defined length DCMTK, pydicom and our reader would all see an opaque UN value.
    /// </summary>
    private bool UndefinedLength(DicomSequence sq) =>
        _options.UndefinedLengthSequences || (!_explicit && DicomDictionary.Lookup(sq.Tag)?.VRs.Contains(DicomVR.SQ) != true);

    private void WriteItem(DicomDataset item)
    {
        bool undefined = _options.UndefinedLengthItems;
        long length = undefined ? 0xFFFFFFFF : DatasetLength(item);
        if (length > 0xFFFFFFFE && length != 0xFFFFFFFF)
            throw new DicomException($"An item of {length} bytes is too long for a defined length; write items with undefined lengths.");
        WriteTag(DicomTag.Item);
        WriteUInt32((uint)length);
        WriteDataset(item);
        if (undefined) WriteDelimiter(DicomTag.ItemDelimitationItem);
    }

    private void WriteFragment(DicomBuffer b)
    {
        WriteTag(DicomTag.Item);
        long len = b.Length + (b.Length & 1);
        WriteUInt32((uint)len);
        b.CopyTo(_out);
        if ((b.Length & 1) == 1) _out.WriteByte(0);
    }

    private void WriteDelimiter(DicomTag tag)
    {
        WriteTag(tag);
        WriteUInt32(0);
    }

    private void WriteValue(DicomValueElement v, DicomVR vr)
    {
        int unit = DicomReader.SwapUnit(v.VR);
        if (_bigEndian && unit > 1)
        {
            var copy = v.Buffer.Memory.ToArray();
            ByteSwap.InPlace(copy, unit);
            _out.Write(copy);
        }
        else
        {
            v.Buffer.CopyTo(_out);
        }
        if ((v.Length & 1) == 1) _out.WriteByte(vr.PaddingByte());
    }

    private void WriteTag(DicomTag tag)
    {
        var s = _scratch.AsSpan(0, 4);
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(s, tag.Group);
            BinaryPrimitives.WriteUInt16BigEndian(s[2..], tag.Element);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(s, tag.Group);
            BinaryPrimitives.WriteUInt16LittleEndian(s[2..], tag.Element);
        }
        _out.Write(s);
    }

    private void WriteUInt32(uint v)
    {
        var s = _scratch.AsSpan(0, 4);
        if (_bigEndian) BinaryPrimitives.WriteUInt32BigEndian(s, v); else BinaryPrimitives.WriteUInt32LittleEndian(s, v);
        _out.Write(s);
    }

    private void WriteHeader(DicomTag tag, DicomVR vr, long length)
    {
        // 0xFFFFFFFF means "undefined"; anything longer does not fit the 32-bit length field at all.
        if (length > 0xFFFFFFFE && length != 0xFFFFFFFF)
            throw new DicomException($"{tag} is {length} bytes long, more than a 32-bit length can express; write sequences and items with undefined lengths.");
        WriteTag(tag);
        if (!_explicit)
        {
            WriteUInt32((uint)length);
            return;
        }
        var name = vr.ToString();
        _out.WriteByte((byte)name[0]);
        _out.WriteByte((byte)name[1]);
        if (vr.HasLongLength())
        {
            _out.WriteByte(0);
            _out.WriteByte(0);
            WriteUInt32((uint)length);
        }
        else
        {
            var s = _scratch.AsSpan(0, 2);
            if (_bigEndian) BinaryPrimitives.WriteUInt16BigEndian(s, (ushort)length); else BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)length);
            _out.Write(s);
        }
    }

    // ---- length computation for defined-length sequences and items ----

    private long HeaderLength(DicomVR vr) => !_explicit ? 8 : vr.HasLongLength() ? 12 : 8;

    private long ElementLength(DicomElement e)
    {
        if (IsDataSetGroupLength(e.Tag)) return _options.KeepGroupLengths ? HeaderLength(DicomVR.UL) + 4 : 0;
        var vr = EffectiveVR(e);
        return e switch
        {
            DicomValueElement v => HeaderLength(vr) + v.Length + (v.Length & 1),
            DicomSequence sq => HeaderLength(DicomVR.SQ) + SequenceContentLength(sq) + (UndefinedLength(sq) ? 8 : 0),
            DicomFragmentSequence f => HeaderLength(vr) + 8 + f.OffsetTable.Length + (f.OffsetTable.Length & 1)
                + f.Fragments.Sum(x => 8 + x.Length + (x.Length & 1)) + 8,
            _ => 0,
        };
    }

    private long SequenceContentLength(DicomSequence sq)
    {
        long n = 0;
        foreach (var item in sq.Items) n += 8 + DatasetLength(item) + (_options.UndefinedLengthItems ? 8 : 0);
        if (n > uint.MaxValue - 1) throw new DicomException($"Sequence {sq.Tag} is too long for a defined length; write with undefined lengths.");
        return n;
    }

    private long DatasetLength(DicomDataset ds)
    {
        long n = 0;
        foreach (var e in ds) n += ElementLength(e);
        return n;
    }
}
