using System.Buffers.Binary;
using System.Diagnostics;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Rendering;

namespace Kaapana.Tests.Dicom.Imaging;

/// <summary>Our PNG rendering against DCMTK's dcmj2pnm (dcm2pnm with the JPEG decoders) with the same VOI, pixel for pixel within one level.</summary>
public class RenderingTests
{
    private static void AssertMatchesDcmtk(string path, RenderOptions options, int tolerance, params string[] dcmtkOptions)
    {
        var png = ImageEncoder.EncodePng(DicomRenderer.Render(DicomFile.Open(path), options), zlibLevel: 1);
        var ours = ImageEncoder.Decode(png);
        var theirs = ImagingTools.Dcm2Pnm(path, dcmtkOptions);
        Assert.Equal((theirs.Width, theirs.Height, theirs.IsColor), (ours.Width, ours.Height, ours.IsColor));
        int channels = theirs.IsColor ? 3 : 1, diffs = 0, max = 0;
        for (int p = 0; p < theirs.Width * theirs.Height; p++)
            for (int c = 0; c < channels; c++)
            {
                int a = ours.IsColor ? ours.Pixels[4 * p + c] : ours.Pixels[p];
                int b = theirs.Pixels[p * channels + c];
                if (a == b) continue;
                diffs++;
                max = Math.Max(max, Math.Abs(a - b));
            }
        Assert.True(max <= tolerance, $"{Path.GetFileName(path)}: {diffs} samples differ from dcmj2pnm {string.Join(' ', dcmtkOptions)}, by up to {max}");
    }

    [Theory]
    [InlineData("CT_small.dcm", 40, 400)]
    [InlineData("CT_small.dcm", -600, 1500)]
    [InlineData("CT_small.dcm", 1000, 1)]
    [InlineData("MR_small.dcm", 600, 1600)]
    [InlineData("MR_small.dcm", 300.5, 77.25)]
    public void GivenWindowMatchesDcm2pnm(string name, double center, double width) =>
        AssertMatchesDcmtk(ImagingTools.SampleFile(name), new RenderOptions { Window = new VoiWindow(center, width) }, 1,
            "+Ww", center.ToString(System.Globalization.CultureInfo.InvariantCulture), width.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [InlineData("CT_small.dcm")]
    [InlineData("MR_small.dcm")]
    [InlineData("JPGExtended.dcm")]
    [InlineData("MR_small_RLE.dcm")]
    [InlineData("liver_1frame.dcm")]
    [InlineData("rtdose_1frame.dcm")]
    public void MinMaxWindowMatchesDcm2pnm(string name) =>
        AssertMatchesDcmtk(ImagingTools.SampleFile(name), new RenderOptions { Voi = VoiSource.MinMax }, 1, "+Wm");

    [Fact]
    public void SigmoidAndFileWindowMatchDcm2pnm()
    {
        AssertMatchesDcmtk(ImagingTools.SampleFile("MR_small.dcm"), new RenderOptions { Window = new VoiWindow(600, 1200, VoiLutFunction.Sigmoid) }, 1, "+Ww", "600", "1200", "+Wfs");
        AssertMatchesDcmtk(ImagingTools.SampleFile("MR_small.dcm"), new RenderOptions(), 1, "+Wi", "1");
        AssertMatchesDcmtk(ImagingTools.SampleFile("dicomdirtests/77654033/CT2/17136"), new RenderOptions(), 1, "+Wi", "1");
    }

    [Fact]
    public void Synthetic512CtWithWindowMatchesDcm2pnm()
    {
        using var dir = new ImagingTools.TempDir();
        var path = dir.File("ct512.dcm");
        SyntheticCt.Series(1, 512)[0].Save(path);
        AssertMatchesDcmtk(path, new RenderOptions { Window = new VoiWindow(40, 400) }, 1, "+Ww", "40", "400");
        AssertMatchesDcmtk(path, new RenderOptions(), 1, "+Wi", "1"); // the file's own window
        AssertMatchesDcmtk(path, new RenderOptions { Window = new VoiWindow(-500, 1600) }, 1, "+Ww", "-500", "1600");
    }

    [Theory]
    [InlineData("dicomdirtests/77654033/CR1/6154")]
    [InlineData("dicomdirtests/77654033/CR2/6247")]
    public void Monochrome1IsInverted(string name)
    {
        var path = ImagingTools.SampleFile(name);
        Assert.Equal("MONOCHROME1", DicomFile.Open(path).Dataset.GetString(DicomTags.PhotometricInterpretation));
        AssertMatchesDcmtk(path, new RenderOptions { Window = new VoiWindow(2000, 3000) }, 1, "+Ww", "2000", "3000");
        AssertMatchesDcmtk(path, new RenderOptions { Voi = VoiSource.MinMax }, 1, "+Wm");
    }

    [Theory]
    [InlineData("SC_rgb_small_odd.dcm")]
    [InlineData("ExplVR_BigEnd.dcm")] // RGB, colour-by-plane, big endian
    [InlineData("SC_ybr_full_422_uncompressed.dcm")]
    [InlineData("SC_rgb_rle_16bit.dcm")]
    [InlineData("SC_rgb_rle_32bit.dcm")]
    [InlineData("SC_rgb_dcmtk_+eb+cy+n1.dcm")] // YBR_FULL JPEG
    [InlineData("SC_rgb_jpeg_gdcm.dcm")]
    public void ColourImagesMatchDcm2pnm(string name) =>
        AssertMatchesDcmtk(ImagingTools.SampleFile(name), new RenderOptions(), name.Contains("+eb") ? 2 : 0);

    [Fact]
    public void UncompressedYbrFullMatchesDcm2pnm()
    {
        // YBR_FULL native data: DCMTK converts with its own tables; so do we.
        var source = DicomFile.Open(ImagingTools.SampleFile("SC_rgb_jpeg_dcmtk.dcm"));
        var native = Kaapana.Dicom.Imaging.Codecs.DicomCodecs.Default.DecodeFrame(DicomPixelData.Create(source), 0);
        var ds = source.Dataset.Clone();
        // Back to YBR_FULL samples by DCMTK's own encoder: easier to take the JPEG's raw components via an RGB file.
        using var dir = new ImagingTools.TempDir();
        var ybr = new DicomDataset();
        foreach (var e in ds) if (e.Tag != DicomTags.PixelData) ybr.Set(e);
        var rgb = native.Data;
        var data = new byte[rgb.Length];
        for (int i = 0; i < rgb.Length; i += 3)
        {
            double r = rgb[i], g = rgb[i + 1], b = rgb[i + 2];
            data[i] = (byte)Math.Clamp(Math.Round(0.299 * r + 0.587 * g + 0.114 * b), 0, 255);
            data[i + 1] = (byte)Math.Clamp(Math.Round(-0.168736 * r - 0.331264 * g + 0.5 * b + 128), 0, 255);
            data[i + 2] = (byte)Math.Clamp(Math.Round(0.5 * r - 0.418688 * g - 0.081312 * b + 128), 0, 255);
        }
        ybr.Set(DicomTags.PhotometricInterpretation, "YBR_FULL");
        ybr.SetBytes(DicomTags.PixelData, DicomVR.OB, data);
        var path = dir.File("ybr.dcm");
        new DicomFile(ybr).Save(path);
        AssertMatchesDcmtk(path, new RenderOptions(), 0);
    }

    [Fact]
    public void PaletteColorMatchesDcm2pnm()
    {
        using var dir = new ImagingTools.TempDir();
        var ds = SyntheticCt.Header(DicomUidGenerator.New(), DicomUidGenerator.New(), DicomUidGenerator.New(), 0, 64);
        ds.Set(DicomTags.SOPClassUID, DicomUids.SecondaryCaptureImageStorage);
        foreach (var t in new[] { DicomTags.RescaleIntercept, DicomTags.RescaleSlope, DicomTags.RescaleType, DicomTags.WindowCenter, DicomTags.WindowWidth })
            ds.Remove(t);
        new PixelDataInfo { Rows = 64, Columns = 64, BitsAllocated = 8, BitsStored = 8, HighBit = 7, PhotometricInterpretation = "PALETTE COLOR" }.ApplyTo(ds);
        var pixels = new byte[64 * 64];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)((i % 64) * 4 + i / 64 % 4);
        ds.SetBytes(DicomTags.PixelData, DicomVR.OB, pixels);
        // 256-entry 16-bit tables: a hot-iron like ramp.
        foreach (var (desc, data, f) in new[]
                 {
                     (DicomTags.RedPaletteColorLookupTableDescriptor, DicomTags.RedPaletteColorLookupTableData, (Func<int, int>)(i => Math.Min(255, i * 2))),
                     (DicomTags.GreenPaletteColorLookupTableDescriptor, DicomTags.GreenPaletteColorLookupTableData, i => Math.Max(0, i * 2 - 255)),
                     (DicomTags.BluePaletteColorLookupTableDescriptor, DicomTags.BluePaletteColorLookupTableData, i => 255 - i),
                 })
        {
            ds.Set<ushort>(desc, DicomVR.US, 256, 0, 16);
            var lut = new byte[512];
            for (int i = 0; i < 256; i++) BinaryPrimitives.WriteUInt16LittleEndian(lut.AsSpan(2 * i), (ushort)(f(i) * 257));
            ds.SetBytes(data, DicomVR.OW, lut);
        }
        var path = dir.File("palette.dcm");
        new DicomFile(ds).Save(path);
        AssertMatchesDcmtk(path, new RenderOptions(), 0);
    }

    [Fact]
    public void ScalesToTheRequestedBoxKeepingAspect()
    {
        var image = DicomRenderer.Render(DicomFile.Open(ImagingTools.SampleFile("JPGExtended.dcm")), new RenderOptions { MaxWidth = 64, MaxHeight = 64 });
        Assert.Equal((16, 64), (image.Width, image.Height)); // 256 x 1024 source
        var jpeg = ImageEncoder.EncodeJpeg(image, 80);
        Assert.Equal(0xFF, jpeg[0]);
        Assert.Equal(0xD8, jpeg[1]);
        var small = DicomRenderer.Render(DicomFile.Open(ImagingTools.SampleFile("MR_small.dcm")), new RenderOptions { MaxWidth = 1000, MaxHeight = 1000 });
        Assert.Equal((64, 64), (small.Width, small.Height)); // never enlarged
    }

    [Fact]
    public void SeriesThumbnailIsTheMiddleImage()
    {
        using var dir = new ImagingTools.TempDir();
        var series = SyntheticCt.Series(9, 64); // reverse order on purpose
        var paths = new List<string>();
        for (int i = 0; i < series.Count; i++)
        {
            var p = dir.File($"img{i}.dcm");
            series[i].Save(p);
            paths.Add(p);
        }
        var middle = SeriesThumbnail.SelectMiddle(paths.OrderBy(_ => Guid.NewGuid()));
        Assert.Equal("5", DicomFile.Open(middle).Dataset.GetString(DicomTags.InstanceNumber));
        // Without positions: by Instance Number.
        foreach (var p in paths)
        {
            var f = DicomFile.Open(p, new DicomReadOptions { LargeValueThreshold = null });
            f.Dataset.Remove(DicomTags.ImagePositionPatient);
            f.Save(p);
        }
        Assert.Equal("5", DicomFile.Open(SeriesThumbnail.SelectMiddle(paths)).Dataset.GetString(DicomTags.InstanceNumber));
        var png = SeriesThumbnail.Create(paths, new ThumbnailOptions { MaxWidth = 32, MaxHeight = 32 });
        var decoded = ImageEncoder.Decode(png);
        Assert.Equal((32, 32), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void FastPathRendersA512CtQuickly()
    {
        var ct = SyntheticCt.Series(1, 512)[0];
        var pixelData = DicomPixelData.Create(ct);
        for (int i = 0; i < 3; i++) ImageEncoder.EncodePng(DicomRenderer.Render(pixelData), 1); // warm up
        var sw = Stopwatch.StartNew();
        const int n = 10;
        for (int i = 0; i < n; i++) ImageEncoder.EncodePng(DicomRenderer.Render(pixelData), 1);
        var perImage = sw.Elapsed.TotalMilliseconds / n;
        // ~6 ms here; generous bound so a busy CI machine does not fail it.
        Assert.True(perImage < 100, $"{perImage:F1} ms per 512² PNG");
    }

    [Fact]
    public void VoiFunctionsFollowPs33()
    {
        var linear = VoiTransform.FromWindow(new VoiWindow(50, 100));
        Assert.Equal(0, linear.Apply(0, 0, 255));
        Assert.Equal(255, linear.Apply(100, 0, 255));
        Assert.Equal(127.5 + 255 * 0.5 / 99, linear.Apply(50, 0, 255), 6); // ((x - (c - 0.5)) / (w - 1) + 0.5) * 255
        var exact = VoiTransform.FromWindow(new VoiWindow(50, 100, VoiLutFunction.LinearExact));
        Assert.Equal(127.5, exact.Apply(50, 0, 255), 6);
        Assert.Equal(0, exact.Apply(0, 0, 255));
        var sigmoid = VoiTransform.FromWindow(new VoiWindow(50, 100, VoiLutFunction.Sigmoid));
        Assert.Equal(127.5, sigmoid.Apply(50, 0, 255), 6);
        Assert.Equal(255 / (1 + Math.Exp(-2)), sigmoid.Apply(100, 0, 255), 6);
    }
}
