using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Codecs;

namespace Kaapana.Tests.Dicom.Imaging;

/// <summary>Our encoders (RLE, JPEG lossless SV1): lossless round trips, and DCMTK decodes what they write to the same pixels.</summary>
public class CodecRoundTripTests
{
    public static TheoryData<string, string> EncoderCases() => new()
    {
        { "MR_small.dcm", DicomTransferSyntax.RLELossless.Uid },
        { "MR_small.dcm", DicomTransferSyntax.JPEGLosslessSV1.Uid },
        { "CT_small.dcm", DicomTransferSyntax.JPEGLosslessSV1.Uid },
        { "CT_small.dcm", DicomTransferSyntax.RLELossless.Uid },
        { "SC_rgb_small_odd.dcm", DicomTransferSyntax.RLELossless.Uid },
        { "SC_rgb_small_odd.dcm", DicomTransferSyntax.JPEGLosslessSV1.Uid },
        { "ExplVR_BigEnd.dcm", DicomTransferSyntax.JPEGLosslessSV1.Uid },
        { "rtdose_1frame.dcm", DicomTransferSyntax.RLELossless.Uid },
        { "rtdose.dcm", DicomTransferSyntax.RLELossless.Uid },
        { "image_dfl.dcm", DicomTransferSyntax.JPEGLosslessSV1.Uid },
    };

    [Theory]
    [MemberData(nameof(EncoderCases))]
    public void EncodesLosslesslyAndDcmtkAgrees(string name, string syntaxUid)
    {
        var target = DicomTransferSyntax.Lookup(syntaxUid);
        var source = DicomFile.Open(ImagingTools.SampleFile(name));
        var native = DicomPixelData.Create(source);
        var compressed = DicomTranscoder.Transcode(source, target);
        Assert.IsType<DicomFragmentSequence>(compressed.Dataset[DicomTags.PixelData]);

        using var dir = new ImagingTools.TempDir();
        var encodedPath = dir.File("encoded.dcm");
        compressed.Save(encodedPath);

        // Ours: back to native, same values (colour-by-plane input comes back colour-by-pixel, as Planar Configuration says).
        byte[] Expected(int f) => native.Info.PlanarConfiguration == 1 ? PixelLayout.PlanarToInterleaved(native.GetFrame(f).Span, native.Info) : native.GetFrame(f).ToArray();
        var back = DicomTranscoder.Transcode(DicomFile.Open(encodedPath), DicomTransferSyntax.ExplicitVRLittleEndian);
        var decoded = DicomPixelData.Create(back);
        Assert.Equal(native.FrameCount, decoded.FrameCount);
        for (int f = 0; f < native.FrameCount; f++)
            AssertSameStoredValues(Expected(f), decoded.GetFrame(f).Span, native.Info);

        // DCMTK's: dcmdrle / dcmdjpeg read our stream and get the same values.
        var tool = target == DicomTransferSyntax.RLELossless ? "dcmdrle" : "dcmdjpeg";
        var dcmtkPath = dir.File("dcmtk.dcm");
        ImagingTools.RunOk(tool, encodedPath, dcmtkPath);
        var dcmtk = DicomPixelData.Create(DicomFile.Open(dcmtkPath));
        for (int f = 0; f < native.FrameCount; f++)
            AssertSameStoredValues(Expected(f), dcmtk.GetFrame(f).Span, native.Info);
    }

    /// <summary>Compares the stored bits (Bits Stored below High Bit) of every sample.</summary>
    private static void AssertSameStoredValues(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, PixelDataInfo info)
    {
        Assert.Equal(expected.Length, actual.Length);
        if (info.BitsStored == info.BitsAllocated)
        {
            Assert.True(expected.SequenceEqual(actual), "pixel data differs");
            return;
        }
        long mask = ((1L << info.BitsStored) - 1) << (info.HighBit + 1 - info.BitsStored);
        for (int i = 0; i < expected.Length; i += info.BytesPerSample)
        {
            long a = info.BytesPerSample == 1 ? expected[i] : BitConverter.ToUInt16(expected.Slice(i, 2));
            long b = info.BytesPerSample == 1 ? actual[i] : BitConverter.ToUInt16(actual.Slice(i, 2));
            Assert.True((a & mask) == (b & mask), $"sample {i / info.BytesPerSample}: {a & mask} vs {b & mask}");
        }
    }

    [Fact]
    public void JpegLosslessOf16BitCtIsSmallerAndExact()
    {
        var ct = SyntheticCt.Series(1, 256)[0];
        var native = DicomPixelData.Create(ct);
        var jpeg = DicomTranscoder.Transcode(ct, DicomTransferSyntax.JPEGLosslessSV1);
        var fragments = (DicomFragmentSequence)jpeg.Dataset[DicomTags.PixelData];
        Assert.True(fragments.Fragments[0].Length < native.Info.FrameLength / 2, $"{fragments.Fragments[0].Length} bytes");
        var back = DicomCodecs.Default.DecodeFrame(DicomPixelData.Create(jpeg), 0);
        Assert.True(native.GetFrame(0).Span.SequenceEqual(back.Data));
    }

    [Fact]
    public void DcmtkCompressedFilesDecode()
    {
        // The reverse direction: dcmcjpeg (+e1 = lossless SV1) and dcmcrle compress, we decode.
        var ct = SyntheticCt.Series(1, 128)[0];
        using var dir = new ImagingTools.TempDir();
        var nativePath = dir.File("ct.dcm");
        ct.Save(nativePath);
        foreach (var (tool, flags) in new[] { ("dcmcjpeg", new[] { "+e1" }), ("dcmcjpeg", new[] { "+el", "+sv", "6" }), ("dcmcrle", Array.Empty<string>()) })
        {
            var outPath = dir.File($"{tool}-{flags.Length}.dcm");
            ImagingTools.RunOk(tool, [.. flags, nativePath, outPath]);
            var decoded = DicomCodecs.Default.DecodeFrame(DicomPixelData.Create(DicomFile.Open(outPath)), 0);
            var expected = DicomPixelData.Create(ct).GetFrame(0).ToArray();
            int diffs = 0, first = -1;
            for (int i = 0; i < expected.Length; i++) if (expected[i] != decoded.Data[i]) { diffs++; if (first < 0) first = i; }
            Assert.True(diffs == 0, $"{tool} {string.Join(' ', flags)}: {diffs} bytes differ, first at {first}");
        }
    }

    [Fact]
    public void RegistryIsExplicitAndDefaultIsReadOnly()
    {
        var codecs = new DicomCodecs().Add<RleCodec>();
        Assert.True(codecs.TryGetCodec(DicomTransferSyntax.RLELossless, out _));
        Assert.False(codecs.TryGetCodec(DicomTransferSyntax.JPEGLosslessSV1, out _));
        var ex = Assert.Throws<DicomCodecException>(() => codecs.GetCodec(DicomTransferSyntax.JPEG2000));
        Assert.Contains("No codec", ex.Message);
        Assert.Throws<InvalidOperationException>(() => DicomCodecs.Default.Add<RleCodec>());
        foreach (var ts in new[] { DicomTransferSyntax.RLELossless, DicomTransferSyntax.JPEGBaseline8Bit, DicomTransferSyntax.JPEGExtended12Bit,
                     DicomTransferSyntax.JPEGLossless, DicomTransferSyntax.JPEGLosslessSV1, DicomTransferSyntax.JPEGLSLossless,
                     DicomTransferSyntax.JPEGLSNearLossless, DicomTransferSyntax.JPEG2000Lossless, DicomTransferSyntax.JPEG2000 })
            Assert.True(DicomCodecs.Default.TryGetCodec(ts, out _), ts.Name);
    }

    [Fact]
    public void TranscodingJpegYbrFull422GivesRgbAsDcmtkDoes()
    {
        var source = DicomFile.Open(ImagingTools.SampleFile("SC_rgb_dcmtk_+eb+cy+np.dcm"));
        Assert.Equal("YBR_FULL_422", source.Dataset.GetString(DicomTags.PhotometricInterpretation));
        var native = DicomTranscoder.Transcode(source, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal("RGB", native.Dataset.GetString(DicomTags.PhotometricInterpretation));
        Assert.Equal(0, native.Dataset.Get<int>(DicomTags.PlanarConfiguration));
        Assert.Equal(100 * 100 * 3, ((DicomValueElement)native.Dataset[DicomTags.PixelData]).Length);
    }

    [Fact]
    public void LossyToLosslessKeepsTheLossyFlagAndCompressedToCompressedWorks()
    {
        var source = DicomFile.Open(ImagingTools.SampleFile("MR_small_jpeg_ls_lossless.dcm"));
        var rle = DicomTranscoder.Transcode(source, DicomTransferSyntax.RLELossless);
        Assert.Equal(DicomTransferSyntax.RLELossless, rle.TransferSyntax);
        var a = DicomCodecs.Default.DecodeFrame(DicomPixelData.Create(source), 0).Data;
        var b = DicomCodecs.Default.DecodeFrame(DicomPixelData.Create(rle), 0).Data;
        Assert.True(a.AsSpan().SequenceEqual(b));
    }
}
