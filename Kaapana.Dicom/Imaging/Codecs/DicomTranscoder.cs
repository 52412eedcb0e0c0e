using System.Buffers.Binary;

namespace Kaapana.Dicom.Imaging.Codecs;

/// <summary>
/// Changes the transfer syntax of a file: compressed → uncompressed (decode), uncompressed → compressed (encode), or
/// between two compressed syntaxes (decode, then encode). The source file is never modified; the result is a new
/// <see cref="DicomFile"/> whose data set shares unchanged values with the source. Image Pixel attributes follow the
/// decoded data (e.g. YBR_FULL_422 → RGB after JPEG decoding, Planar Configuration 0), as DCMTK's dcmdjpeg does.
/// </summary>
public static class DicomTranscoder
{
    public static DicomFile Transcode(DicomFile file, DicomTransferSyntax target, DicomCodecs? codecs = null)
    {
        codecs ??= DicomCodecs.Default;
        var source = file.TransferSyntax;
        var dataset = file.Dataset.Clone();
        var meta = file.FileMetaInfo.Clone();
        var result = new DicomFile(meta, dataset, target, file.Preamble);

        // Same syntax, or no pixel data: nothing to re-encode (the writer changes the encoding of the rest).
        if (!dataset.TryGetElement(DicomTags.PixelData, out var pixelElement) || source.Uid == target.Uid) return result;
        bool sourceEncapsulated = pixelElement is DicomFragmentSequence;
        if (!sourceEncapsulated && !target.IsEncapsulated) return result; // uncompressed to uncompressed: the writer re-encodes

        var pixelData = DicomPixelData.Create(file.Dataset, source);
        var frames = new List<DecodedFrame>(pixelData.FrameCount);
        for (int i = 0; i < pixelData.FrameCount; i++) frames.Add(codecs.DecodeFrame(pixelData, i));
        var decodedInfo = frames[0].Info with { NumberOfFrames = pixelData.FrameCount };

        if (!target.IsEncapsulated)
        {
            SetNative(dataset, decodedInfo, frames);
            return result;
        }

        // Encode each frame; colour-by-plane input is handed to the codec as it is (codecs read both layouts).
        var fragments = new List<DicomBuffer>(frames.Count);
        PixelDataInfo? encodedInfo = null;
        foreach (var f in frames)
        {
            var encoded = codecs.Encode(f.Data, f.Info, target);
            fragments.Add(DicomBuffer.From(encoded.Data));
            encodedInfo ??= encoded.Info;
        }
        // Basic Offset Table: one fragment per frame, each offset counted from the first fragment's item tag.
        var bot = new byte[4 * fragments.Count];
        long offset = 0;
        for (int i = 0; i < fragments.Count; i++)
        {
            if (offset > uint.MaxValue) { bot = []; break; }
            BinaryPrimitives.WriteUInt32LittleEndian(bot.AsSpan(4 * i), (uint)offset);
            offset += 8 + fragments[i].Length + (fragments[i].Length & 1);
        }
        if (fragments.Count == 1) bot = [];
        var info = encodedInfo! with { NumberOfFrames = pixelData.FrameCount };
        info.ApplyTo(dataset);
        dataset.Remove(DicomTags.ExtendedOffsetTable);
        dataset.Remove(DicomTags.ExtendedOffsetTableLengths);
        dataset.Set(new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB, DicomBuffer.From(bot), fragments));
        if (target.IsLossy)
        {
            dataset.Set(DicomTags.LossyImageCompression, "01");
        }
        return result;
    }

    private static void SetNative(DicomDataset dataset, PixelDataInfo info, List<DecodedFrame> frames)
    {
        long frameLength = info.FrameLength;
        var all = new byte[frameLength * frames.Count + ((frameLength * frames.Count) & 1)];
        for (int i = 0; i < frames.Count; i++)
        {
            var data = frames[i].Data;
            if (frames[i].Info.PlanarConfiguration != info.PlanarConfiguration)
                data = info.PlanarConfiguration == 0 ? PixelLayout.PlanarToInterleaved(data, frames[i].Info) : PixelLayout.InterleavedToPlanar(data, frames[i].Info);
            data.AsSpan(0, (int)frameLength).CopyTo(all.AsSpan((int)(i * frameLength)));
        }
        info.ApplyTo(dataset);
        dataset.Remove(DicomTags.ExtendedOffsetTable);
        dataset.Remove(DicomTags.ExtendedOffsetTableLengths);
        dataset.Set(new DicomValueElement(DicomTags.PixelData, info.BitsAllocated > 8 ? DicomVR.OW : DicomVR.OB, DicomBuffer.From(all)));
    }
}
