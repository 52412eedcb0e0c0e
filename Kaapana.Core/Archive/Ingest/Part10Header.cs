using System.Buffers.Binary;
using System.Text;
using Kaapana.Dicom;

namespace Kaapana.Core.Archive.Ingest;

/// <summary>The Part 10 header (preamble, "DICM", file meta information) put in front of a bare data set (PS3.10 7.1).</summary>
public static class Part10Header
{
    public static byte[] Encode(DatasetEncoding encoding)
    {
        // Group 0002 is always explicit VR little endian. Written here directly: DicomWriter writes meta information only as
        // part of a whole file, and the data set follows separately, as it streams in.
        var elements = new List<(DicomTag Tag, DicomVR VR, byte[] Value)>
        {
            (DicomTags.FileMetaInformationVersion, DicomVR.OB, [0, 1]),
            (DicomTags.MediaStorageSOPClassUID, DicomVR.UI, Uid(encoding.SopClassUid)),
            (DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, Uid(encoding.SopInstanceUid)),
            (DicomTags.TransferSyntaxUID, DicomVR.UI, Uid(encoding.TransferSyntax.Uid)),
            (DicomTags.ImplementationClassUID, DicomVR.UI, Uid(DicomImplementation.ClassUid)),
            (DicomTags.ImplementationVersionName, DicomVR.SH, Text(DicomImplementation.VersionName)),
        };
        if (!string.IsNullOrWhiteSpace(encoding.SourceAETitle))
            elements.Add((DicomTags.SourceApplicationEntityTitle, DicomVR.AE, Text(encoding.SourceAETitle.Trim())));

        int body = elements.Sum(e => (e.VR.HasLongLength() ? 12 : 8) + e.Value.Length);
        var bytes = new byte[132 + 12 + body];
        "DICM"u8.CopyTo(bytes.AsSpan(128));
        int pos = 132;
        pos += Header(bytes.AsSpan(pos), DicomTags.FileMetaInformationGroupLength, DicomVR.UL, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(pos), (uint)body);
        pos += 4;
        foreach (var (tag, vr, value) in elements)
        {
            pos += Header(bytes.AsSpan(pos), tag, vr, value.Length);
            value.CopyTo(bytes.AsSpan(pos));
            pos += value.Length;
        }
        return bytes;
    }

    private static byte[] Uid(string uid) => Pad(Encoding.ASCII.GetBytes(uid.Trim()), 0);

    private static byte[] Text(string text) => Pad(Encoding.ASCII.GetBytes(text), (byte)' ');

    private static byte[] Pad(byte[] value, byte pad)
    {
        if (value.Length % 2 == 0) return value;
        var padded = new byte[value.Length + 1];
        value.CopyTo(padded, 0);
        padded[^1] = pad;
        return padded;
    }

    private static int Header(Span<byte> s, DicomTag tag, DicomVR vr, int length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(s, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], tag.Element);
        var name = vr.ToString();
        s[4] = (byte)name[0];
        s[5] = (byte)name[1];
        if (vr.HasLongLength())
        {
            s[6] = s[7] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(s[8..], (uint)length);
            return 12;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(s[6..], (ushort)length);
        return 8;
    }
}
