using System.Buffers.Binary;
using System.Text;
using Kaapana.Dicom;

namespace Kaapana.Tests.Dicom.IO;

/// <summary>Builds encoded DICOM byte by byte, independently of our writer, for reader tests.</summary>
internal sealed class RawDicom(bool explicitVr = true, bool bigEndian = false)
{
    private readonly MemoryStream _s = new();

    public byte[] ToArray() => _s.ToArray();
    public long Length => _s.Length;

    public RawDicom Bytes(ReadOnlySpan<byte> b)
    {
        _s.Write(b);
        return this;
    }

    public RawDicom U16(ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        return Bytes(b);
    }

    public RawDicom U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return Bytes(b);
    }

    public RawDicom Tag(DicomTag t) => U16(t.Group).U16(t.Element);

    /// <summary>An element header with an explicit length (0xFFFFFFFF for undefined).</summary>
    public RawDicom Header(DicomTag tag, DicomVR vr, uint length)
    {
        Tag(tag);
        if (!explicitVr) return U32(length);
        Bytes(Encoding.ASCII.GetBytes(vr.ToString()));
        return vr.HasLongLength() ? U16(0).U32(length) : U16((ushort)length);
    }

    /// <summary>An element with its value bytes (already in this encoding's byte order).</summary>
    public RawDicom Element(DicomTag tag, DicomVR vr, ReadOnlySpan<byte> value) => Header(tag, vr, (uint)value.Length).Bytes(value);

    public RawDicom Text(DicomTag tag, DicomVR vr, string value)
    {
        var b = Encoding.ASCII.GetBytes(value);
        if ((b.Length & 1) == 1) b = [.. b, vr == DicomVR.UI ? (byte)0 : (byte)' '];
        return Element(tag, vr, b);
    }

    public RawDicom US(DicomTag tag, params ushort[] values)
    {
        Header(tag, DicomVR.US, (uint)(2 * values.Length));
        foreach (var v in values) U16(v);
        return this;
    }

    public RawDicom Item(uint length = 0xFFFFFFFF) => Tag(DicomTag.Item).U32(length);
    public RawDicom ItemEnd() => Tag(DicomTag.ItemDelimitationItem).U32(0);
    public RawDicom SequenceEnd() => Tag(DicomTag.SequenceDelimitationItem).U32(0);

    /// <summary>Preamble, DICM and a minimal explicit VR LE meta group declaring <paramref name="transferSyntaxUid"/>.</summary>
    public static byte[] Part10(string transferSyntaxUid, byte[] dataset)
    {
        var meta = new RawDicom();
        meta.Element(DicomTags.FileMetaInformationVersion, DicomVR.OB, [0, 1])
            .Text(DicomTags.MediaStorageSOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7")
            .Text(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, "1.2.3.4")
            .Text(DicomTags.TransferSyntaxUID, DicomVR.UI, transferSyntaxUid);
        var body = meta.ToArray();
        var file = new RawDicom();
        file.Bytes(new byte[128]).Bytes("DICM"u8).Element(new DicomTag(0x0002, 0x0000), DicomVR.UL, BitConverter.GetBytes((uint)body.Length)).Bytes(body).Bytes(dataset);
        return file.ToArray();
    }
}
