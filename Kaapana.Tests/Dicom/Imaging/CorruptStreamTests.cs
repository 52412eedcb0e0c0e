using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Codecs;

namespace Kaapana.Tests.Dicom.Imaging;

/// <summary>
/// Damaged compressed frames (truncated, bits flipped, headers altered) of the sample files: decoding either succeeds
/// (a flipped bit in entropy-coded data can still decode, to different pixels) or raises <see cref="DicomCodecException"/>;
/// no other exception escapes and the process survives, native libraries included.
/// </summary>
public class CorruptStreamTests
{
    public static TheoryData<string> Samples() => new(
        "MR_small_RLE.dcm", "SC_rgb_rle_16bit.dcm", "JPGExtended.dcm", "SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_dcmtk_+eb+cy+s2.dcm",
        "SC_rgb_jpeg_gdcm.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm", "JPEG2000.dcm", "GDCMJ2K_TextGBR.dcm");

    [Theory]
    [MemberData(nameof(Samples))]
    public void DamagedFramesRaiseCodecExceptionsOnly(string name)
    {
        var file = DicomFile.Open(ImagingTools.SampleFile(name));
        var pixelData = DicomPixelData.Create(file);
        var info = pixelData.Info with { NumberOfFrames = 1 };
        var frame = pixelData.GetFrame(0).ToArray();
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) & 0x7FFF);
        int failures = 0, cases = 0;

        void Attempt(byte[] damaged)
        {
            cases++;
            try
            {
                var decoded = DicomCodecs.Default.Decode(damaged, info, pixelData.TransferSyntax);
                Assert.True(decoded.Data.Length >= decoded.Info.FrameLength);
            }
            catch (DicomCodecException ex)
            {
                failures++;
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            }
        }

        // Truncations: every cut must fail (a frame missing its end cannot be complete), except cuts in trailing padding.
        foreach (var fraction in new[] { 0.0, 0.01, 0.1, 0.5, 0.9 })
        {
            int length = (int)(frame.Length * fraction);
            int before = failures;
            Attempt(frame[..length]);
            Assert.True(failures > before || length > frame.Length - 4, $"{name}: truncation to {length} of {frame.Length} bytes decoded without error");
        }
        // Bit flips anywhere, including the headers.
        for (int i = 0; i < 40; i++)
        {
            var damaged = (byte[])frame.Clone();
            int flips = 1 + random.Next(4);
            for (int k = 0; k < flips; k++) damaged[random.Next(Math.Min(damaged.Length, i < 20 ? 64 : damaged.Length))] ^= (byte)(1 << random.Next(8));
            Attempt(damaged);
        }
        // Random garbage of the same length.
        var garbage = new byte[frame.Length];
        random.NextBytes(garbage);
        Attempt(garbage);
        Assert.True(failures >= 6, $"{name}: only {failures} of {cases} damaged frames were rejected");
    }

    [Fact]
    public void FileWithTruncatedFragmentFailsClearlyThroughTheWholeApi()
    {
        var file = DicomFile.Open(ImagingTools.SampleFile("SC_rgb_rle_2frame.dcm"));
        var fragments = (DicomFragmentSequence)file.Dataset[DicomTags.PixelData];
        var second = fragments.Fragments[1].Memory;
        fragments.Fragments[1] = DicomBuffer.From(second[..(second.Length / 3)]);
        var ex = Assert.Throws<DicomCodecException>(() => Kaapana.Dicom.Imaging.Rendering.DicomRenderer.Render(file, new() { Frame = 1 }));
        Assert.Equal(1, ex.Frame);
        Assert.IsAssignableFrom<DicomException>(ex);
        Assert.Throws<DicomCodecException>(() => DicomTranscoder.Transcode(file, DicomTransferSyntax.ExplicitVRLittleEndian));
    }

    [Fact]
    public void MismatchedHeaderIsRejectedBeforeNativeDecoding()
    {
        // The data set claims a larger image than the JPEG 2000 / JPEG-LS stream holds: the size check stops it.
        foreach (var name in new[] { "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm", "SC_rgb_jpeg_gdcm.dcm" })
        {
            var file = DicomFile.Open(ImagingTools.SampleFile(name));
            var pixelData = DicomPixelData.Create(file);
            var info = pixelData.Info with { NumberOfFrames = 1, Rows = pixelData.Info.Rows * 4 };
            var ex = Assert.Throws<DicomCodecException>(() => DicomCodecs.Default.Decode(pixelData.GetFrame(0), info, pixelData.TransferSyntax));
            Assert.Contains("data set says", ex.Message);
        }
    }
}
