using System.Buffers.Binary;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Codecs;
using Kaapana.Tests.Dicom.Conformance;

namespace Kaapana.Tests.Dicom.Imaging;

/// <summary>
/// Every compressed pydicom sample decodes to the pixels DCMTK (dcmdrle, dcmdjpeg, dcmdjpls) or GDCM (gdcmconv --raw, for
/// JPEG 2000, which DCMTK 3.6.7 lacks) produce: exactly for lossless syntaxes, within one level for lossy JPEG (our IDCT is
/// JpegLibrary's floating-point one, libjpeg's is the integer "islow" one).
/// </summary>
public class CodecConformanceTests
{
    /// <summary>Lossy JPEG (DCT) samples: allowed difference per sample.</summary>
    private const int LossyJpegTolerance = 1;

    /// <summary>Compressed samples with their reference decoder.</summary>
    public static readonly IReadOnlyDictionary<string, string> Reference = new Dictionary<string, string>
    {
        ["MR_small_RLE.dcm"] = "dcmdrle",
        ["SC_rgb_rle.dcm"] = "dcmdrle",
        ["SC_rgb_rle_2frame.dcm"] = "dcmdrle",
        ["SC_rgb_rle_16bit.dcm"] = "dcmdrle",
        ["SC_rgb_rle_16bit_2frame.dcm"] = "dcmdrle",
        ["SC_rgb_rle_32bit.dcm"] = "dcmdrle",
        ["SC_rgb_rle_32bit_2frame.dcm"] = "dcmdrle",
        ["rtdose_rle.dcm"] = "dcmdrle",
        ["rtdose_rle_1frame.dcm"] = "dcmdrle",
        ["JPEG-lossy.dcm"] = "dcmdjpeg",
        ["JPGExtended.dcm"] = "dcmdjpeg",
        ["SC_jpeg_no_color_transform.dcm"] = "dcmdjpeg",
        ["SC_jpeg_no_color_transform_2.dcm"] = "dcmdjpeg",
        ["SC_rgb_dcmtk_+eb+cr.dcm"] = "dcmdjpeg",
        ["SC_rgb_dcmtk_+eb+cy+n1.dcm"] = "dcmdjpeg",
        ["SC_rgb_dcmtk_+eb+cy+n2.dcm"] = "dcmdjpeg",
        ["SC_rgb_dcmtk_+eb+cy+np.dcm"] = "dcmdjpeg",
        ["SC_rgb_dcmtk_+eb+cy+s2.dcm"] = "dcmdjpeg",
        ["SC_rgb_dcmtk_+eb+cy+s4.dcm"] = "dcmdjpeg",
        ["SC_rgb_jpeg_app14_dcmd.dcm"] = "dcmdjpeg",
        ["SC_rgb_jpeg_dcmtk.dcm"] = "dcmdjpeg",
        ["SC_rgb_jpeg_lossy_gdcm.dcm"] = "dcmdjpeg",
        ["SC_rgb_small_odd_jpeg.dcm"] = "dcmdjpeg",
        ["SC_rgb_jpeg_gdcm.dcm"] = "dcmdjpeg",
        ["MR_small_jpeg_ls_lossless.dcm"] = "dcmdjpls",
        ["693_J2KI.dcm"] = "gdcmconv",
        ["GDCMJ2K_TextGBR.dcm"] = "gdcmconv",
        ["J2K_pixelrep_mismatch.dcm"] = "gdcmconv",
        ["JPEG2000.dcm"] = "gdcmconv",
        ["MR_small_jp2klossless.dcm"] = "gdcmconv",
        ["SC_rgb_gdcm_KY.dcm"] = "gdcmconv",
    };

    /// <summary>Files with a compressed transfer syntax that have no decodable compressed pixel data, and why.</summary>
    public static readonly IReadOnlyDictionary<string, string> NotDecodable = new Dictionary<string, string>
    {
        ["JPEG2000-embedded-sequence-delimiter.dcm"] =
            "deliberately damaged (pydicom tests the parser with it): the codestream's SIZ segment holds the bytes of a sequence "
            + "delimiter (FE FF DD E0), so the image width reads as 4292730882; gdcmconv fails the same way ('Invalid number of tiles')",
        ["UN_sequence.dcm"] = "JPEG Lossless transfer syntax but no Pixel Data at all (dcmdjpeg: 'No pixel data present, nothing to decompress')",
        ["SC_rgb_jpeg.dcm"] =
            "meta information says JPEG Baseline but the data set is implicit VR little endian with native pixel data (see SampleFiles); nothing to decode",
    };

    public static TheoryData<string> ReferenceFiles() => new(Reference.Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void EveryCompressedSampleIsCovered()
    {
        var dir = ExternalTools.RequireTestFiles();
        var compressed = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => !SampleFiles.Broken.ContainsKey("test_files/" + Path.GetRelativePath(dir, f)))
            .Select(f => (Name: Path.GetRelativePath(dir, f), File: TryOpenHeader(f)))
            .Where(x => x.File?.TransferSyntax.IsEncapsulated == true)
            .Select(x => x.Name).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(compressed);
        var unclassified = compressed.Where(n => !Reference.ContainsKey(n) && !NotDecodable.ContainsKey(n)).ToList();
        Assert.True(unclassified.Count == 0, "Compressed samples without a reference decoder: " + string.Join(", ", unclassified));
        Assert.Equal(Reference.Count + NotDecodable.Count, compressed.Count);
    }

    private static DicomFile? TryOpenHeader(string path)
    {
        try { return DicomFile.Open(path, new DicomReadOptions { StopBeforePixelData = true }); }
        catch (DicomException) { return null; }
    }

    [Theory]
    [MemberData(nameof(ReferenceFiles))]
    public void DecodesToTheReferencePixels(string name)
    {
        var path = ImagingTools.SampleFile(name);
        var tool = Reference[name];
        using var dir = new ImagingTools.TempDir();
        var refPath = dir.File("ref.dcm");
        if (tool == "gdcmconv") ImagingTools.RunOk("gdcmconv", "--raw", path, refPath);
        else ImagingTools.RunOk(tool, path, refPath);

        var source = DicomFile.Open(path);
        var reference = DicomFile.Open(refPath);
        var decoded = DicomTranscoder.Transcode(source, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal(DicomTransferSyntax.ExplicitVRLittleEndian, decoded.TransferSyntax);
        Assert.IsType<DicomValueElement>(decoded.Dataset[DicomTags.PixelData]);
        // The source stays as it was: the archive keeps the original bytes.
        Assert.IsType<DicomFragmentSequence>(source.Dataset[DicomTags.PixelData]);

        var ours = DicomPixelData.Create(decoded);
        var theirs = DicomPixelData.Create(reference);
        Assert.Equal(theirs.Info.PhotometricInterpretation, ours.Info.PhotometricInterpretation);
        Assert.Equal(theirs.Info.PlanarConfiguration, ours.Info.PlanarConfiguration);
        Assert.Equal(theirs.FrameCount, ours.FrameCount);
        bool lossy = source.TransferSyntax.Uid is "1.2.840.10008.1.2.4.50" or "1.2.840.10008.1.2.4.51";
        int tolerance = lossy ? LossyJpegTolerance : 0;
        for (int f = 0; f < ours.FrameCount; f++)
        {
            var a = ours.GetFrame(f).Span;
            var b = theirs.GetFrame(f).Span;
            Assert.Equal(b.Length, a.Length);
            var (count, max, at) = Compare(a, b, theirs.Info.BytesPerSample);
            Assert.True(max <= tolerance, $"{name} frame {f}: {count} samples differ, by up to {max} (first at sample {at}); allowed {tolerance}");
        }
    }

    private static (int Count, long Max, int At) Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int bytesPerSample)
    {
        int count = 0, at = -1;
        long max = 0;
        for (int i = 0; i + bytesPerSample <= a.Length; i += bytesPerSample)
        {
            long x = bytesPerSample switch { 1 => a[i], 2 => BinaryPrimitives.ReadUInt16LittleEndian(a[i..]), _ => BinaryPrimitives.ReadUInt32LittleEndian(a[i..]) };
            long y = bytesPerSample switch { 1 => b[i], 2 => BinaryPrimitives.ReadUInt16LittleEndian(b[i..]), _ => BinaryPrimitives.ReadUInt32LittleEndian(b[i..]) };
            if (x == y) continue;
            if (count++ == 0) at = i / bytesPerSample;
            max = Math.Max(max, Math.Abs(x - y));
        }
        return (count, max, at);
    }

    [Fact]
    public void DamagedJpeg2000SampleFailsClearlyAsInGdcm()
    {
        var path = ImagingTools.SampleFile("JPEG2000-embedded-sequence-delimiter.dcm");
        using var dir = new ImagingTools.TempDir();
        Assert.NotEqual(0, ImagingTools.Run("gdcmconv", "--raw", path, dir.File("out.dcm")).ExitCode);
        var file = DicomFile.Open(path);
        var ex = Assert.Throws<DicomCodecException>(() => DicomCodecs.Default.DecodeFrame(DicomPixelData.Create(file), 0));
        Assert.Contains("JPEG 2000", ex.Message);
        Assert.Equal(0, ex.Frame);
    }

    [Fact]
    public void NativeLibrariesAreInstalled()
    {
        // The codecs name the package when the library is missing; here (scripts/test.sh installs both) they must load.
        Assert.True(JpegLsCodec.IsNativeLibraryAvailable, "libcharls.so.2 missing: install the Debian package libcharls2");
        Assert.True(Jpeg2000Codec.IsNativeLibraryAvailable, "libopenjp2.so.7 missing: install the Debian package libopenjp2-7");
    }
}
