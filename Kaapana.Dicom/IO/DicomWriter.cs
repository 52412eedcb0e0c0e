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
            var v = file.Dataset.GetString(dsTag);
            if (v.Length > 0) meta.Set(metaTag, DicomVR.UI, v);
            else if (!meta.Contains(metaTag)) meta.Set(metaTag, DicomVR.UI, "");
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
            if (e.Tag.IsGroupLength && !_options.KeepGroupLengths && e.Tag.Group != 0x0002) continue;
            // Group 0002 belongs in the meta information, which is written separately in explicit VR LE.
            if (topLevel && e.Tag.Group == 0x0002) continue;
            WriteElement(e, ds);
        }
    }

    private DicomVR EffectiveVR(DicomElement e, out bool asUN)
    {
        asUN = false;
        var vr = e.VR == DicomVR.None ? DicomVR.UN : e.VR;
        // A value too long for a 16-bit length field can only travel as UN (PS3.5 6.2.2).
        if (_explicit && !vr.HasLongLength() && e is DicomValueElement v && v.Length > 0xFFFE)
        {
            asUN = true;
            return DicomVR.UN;
        }
        return vr;
    }

    private void WriteElement(DicomElement e, DicomDataset owner)
    {
        var vr = EffectiveVR(e, out _);
        switch (e)
        {
            case DicomValueElement v:
            {
                long len = v.Length + (v.Length & 1);
                WriteHeader(e.Tag, vr, len);
                WriteValue(v, vr);
                break;
            }
            case DicomSequence sq:
            {
                bool undefined = _options.UndefinedLengthSequences;
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

    private void WriteItem(DicomDataset item)
    {
        bool undefined = _options.UndefinedLengthItems;
        WriteTag(DicomTag.Item);
        WriteUInt32(undefined ? 0xFFFFFFFF : (uint)DatasetLength(item));
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
        var vr = EffectiveVR(e, out _);
        return e switch
        {
            DicomValueElement v => HeaderLength(vr) + v.Length + (v.Length & 1),
            DicomSequence sq => HeaderLength(DicomVR.SQ) + SequenceContentLength(sq) + (_options.UndefinedLengthSequences ? 8 : 0),
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
        foreach (var e in ds)
        {
            if (e.Tag.IsGroupLength && !_options.KeepGroupLengths && e.Tag.Group != 0x0002) continue;
            n += ElementLength(e);
        }
        return n;
    }
}
