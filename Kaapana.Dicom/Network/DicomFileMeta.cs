using System.Buffers.Binary;
using System.Text;

namespace Kaapana.Dicom.Network;

/// <summary>
/// File meta information (PS3.10 7.1) for instances received over the network, and the reverse: reading the meta header of a
/// Part 10 file to find where its data set starts, so the data set can be sent on byte for byte.
/// </summary>
public static class DicomFileMeta
{
    /// <summary>Meta elements for a received instance. Source AE Title (0002,0016) is set when <paramref name="sourceAE"/> is given.</summary>
    public static DicomDataset Create(string sopClassUid, string sopInstanceUid, DicomTransferSyntax transferSyntax, string? sourceAE = null)
    {
        var meta = new DicomDataset();
        meta.SetBytes(DicomTags.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 });
        meta.Set(DicomTags.MediaStorageSOPClassUID, DicomVR.UI, sopClassUid);
        meta.Set(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, sopInstanceUid);
        meta.Set(DicomTags.TransferSyntaxUID, DicomVR.UI, transferSyntax.Uid);
        meta.Set(DicomTags.ImplementationClassUID, DicomVR.UI, DicomImplementation.ClassUid);
        meta.Set(DicomTags.ImplementationVersionName, DicomVR.SH, DicomImplementation.VersionName);
        if (!string.IsNullOrWhiteSpace(sourceAE)) meta.Set(DicomTags.SourceApplicationEntityTitle, DicomVR.AE, sourceAE);
        return meta;
    }

    /// <summary>
    /// Preamble (128 zero bytes), "DICM" and the meta group in explicit VR little endian with its group length computed.
    /// Append the data set bytes (in the meta's transfer syntax, deflated ones included) to get a complete file.
    /// </summary>
    public static byte[] EncodeHeader(DicomDataset meta)
    {
        int body = 0;
        foreach (var e in meta)
        {
            if (e.Tag.Group != 0x0002) throw new ArgumentException($"Meta information holds group 0002 only; found {e.Tag}.", nameof(meta));
            if (e.Tag.Element == 0) continue;
            if (e is not DicomValueElement v) throw new ArgumentException($"Meta element {e.Tag} must be a plain value.", nameof(meta));
            body += HeaderSize(v.VR) + (int)((v.Length + 1) & ~1L);
        }
        var bytes = new byte[132 + 12 + body];
        var s = bytes.AsSpan();
        "DICM"u8.CopyTo(s[128..]);
        int pos = 132;
        pos += WriteElementHeader(s[pos..], DicomTags.FileMetaInformationGroupLength, DicomVR.UL, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(s[pos..], (uint)body);
        pos += 4;
        foreach (var e in meta)
        {
            if (e.Tag.Element == 0) continue;
            var v = (DicomValueElement)e;
            int len = (int)v.Length, padded = (len + 1) & ~1;
            pos += WriteElementHeader(s[pos..], v.Tag, v.VR, (uint)padded);
            v.Span.CopyTo(s[pos..]);
            if (padded != len) s[pos + len] = v.VR.PaddingByte();
            pos += padded;
        }
        return bytes;
    }

    public static async Task WriteHeaderAsync(Stream destination, DicomDataset meta, CancellationToken ct) =>
        await destination.WriteAsync(EncodeHeader(meta), ct).ConfigureAwait(false);

    private static int HeaderSize(DicomVR vr) => vr.HasLongLength() ? 12 : 8;

    private static int WriteElementHeader(Span<byte> s, DicomTag tag, DicomVR vr, uint length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(s, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], tag.Element);
        var name = vr.ToString();
        s[4] = (byte)name[0];
        s[5] = (byte)name[1];
        if (vr.HasLongLength())
        {
            s[6] = 0; s[7] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(s[8..], length);
            return 12;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(s[6..], (ushort)length);
        return 8;
    }

    /// <summary>What <see cref="TryReadHeaderAsync"/> found: the meta group and the data set's position in the stream.</summary>
    public sealed record Header(DicomDataset Meta, long DataSetOffset, string SopClassUid, string SopInstanceUid, DicomTransferSyntax TransferSyntax);

    /// <summary>
    /// Reads preamble, "DICM" and an explicit VR little endian meta group from the current position, leaving the stream at the
    /// first data set byte. Returns null (stream position undefined) when the input is not a well-formed Part 10 header with
    /// SOP class, instance and transfer syntax UIDs; callers then fall back to a full parse.
    /// </summary>
    public static async Task<Header?> TryReadHeaderAsync(Stream stream, CancellationToken ct)
    {
        var start = new byte[132];
        if (await ReadFullyAsync(stream, start, ct).ConfigureAwait(false) < 132) return null;
        if (!start.AsSpan(128, 4).SequenceEqual("DICM"u8)) return null;
        // The group length (0002,0000) must come first: it is the only way to find the end of the group without reading
        // (and consuming) the first data set element.
        var head = new byte[12];
        if (await ReadFullyAsync(stream, head, ct).ConfigureAwait(false) < 12) return null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(head) != 0x00000002 || head[4] != 'U' || head[5] != 'L'
            || BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(6)) != 4)
            return null;
        uint groupLength = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(8));
        if (groupLength > 64 * 1024) return null;
        var meta = new DicomDataset();
        long remaining = groupLength;
        while (remaining > 0)
        {
            if (await ReadFullyAsync(stream, head.AsMemory(0, 8), ct).ConfigureAwait(false) < 8) return null;
            var tag = new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(head), BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(2)));
            if (tag.Group != 0x0002 || !DicomVRInfo.TryParse(head.AsSpan(4, 2), out var vr)) return null;
            uint length;
            int headerSize = 8;
            if (vr.HasLongLength())
            {
                if (await ReadFullyAsync(stream, head.AsMemory(8, 4), ct).ConfigureAwait(false) < 4) return null;
                length = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(8));
                headerSize = 12;
            }
            else
            {
                length = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(6));
            }
            remaining -= headerSize + (long)length;
            if (remaining < 0) return null;
            var value = new byte[length];
            if (await ReadFullyAsync(stream, value, ct).ConfigureAwait(false) < length) return null;
            meta.Set(new DicomValueElement(tag, vr, DicomBuffer.From(value)));
        }
        var sopClass = meta.GetString(DicomTags.MediaStorageSOPClassUID);
        var sopInstance = meta.GetString(DicomTags.MediaStorageSOPInstanceUID);
        var ts = meta.GetString(DicomTags.TransferSyntaxUID);
        if (sopClass.Length == 0 || sopInstance.Length == 0 || ts.Length == 0) return null;
        return new Header(meta, 144 + groupLength, sopClass, sopInstance, DicomTransferSyntax.Lookup(ts));
    }

    private static async ValueTask<int> ReadFullyAsync(Stream s, Memory<byte> buffer, CancellationToken ct)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await s.ReadAsync(buffer[total..], ct).ConfigureAwait(false);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
