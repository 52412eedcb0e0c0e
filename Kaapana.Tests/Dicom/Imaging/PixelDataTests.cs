using System.Buffers.Binary;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Codecs;

namespace Kaapana.Tests.Dicom.Imaging;

/// <summary>Locating frames (offset tables, fragment scanning), native layouts (1-bit, big endian, 4:2:2) and the pixel value transforms.</summary>
public class PixelDataTests
{
    private static DicomFile Rle2Frame() => DicomFile.Open(ImagingTools.SampleFile("SC_rgb_rle_2frame.dcm"));

    private static byte[][] Frames(DicomFile f)
    {
        var pd = DicomPixelData.Create(f);
        return Enumerable.Range(0, pd.FrameCount).Select(i => DicomCodecs.Default.DecodeFrame(pd, i).Data).ToArray();
    }

    [Fact]
    public void FramesFromBasicOffsetTableExtendedOffsetTableAndScanningAgree()
    {
        var file = Rle2Frame();
        var expected = Frames(file);
        Assert.Equal(FrameIndexSource.BasicOffsetTable, DicomPixelData.Create(file).IndexSource);
        var seq = (DicomFragmentSequence)file.Dataset[DicomTags.PixelData];

        // Split every frame into several fragments and drop the BOT: fragment scanning finds the RLE headers.
        var split = new List<DicomBuffer>();
        var eot = new List<ulong>();
        var eotLengths = new List<ulong>();
        long offset = 0;
        foreach (var fragment in seq.Fragments)
        {
            eot.Add((ulong)offset);
            eotLengths.Add((ulong)fragment.Length);
            var m = fragment.Memory;
            int third = (m.Length / 3) & ~1;
            foreach (var part in new[] { m[..third], m[third..(2 * third)], m[(2 * third)..] })
            {
                split.Add(DicomBuffer.From(part));
                offset += 8 + part.Length;
            }
        }
        var scanned = file.Dataset.Clone();
        scanned.Set(new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB, DicomBuffer.Empty, split));
        var scannedFile = new DicomFile(scanned, file.TransferSyntax);
        Assert.Equal(FrameIndexSource.FragmentScan, DicomPixelData.Create(scannedFile).IndexSource);
        Assert.Equal(expected, Frames(scannedFile));

        // Extended Offset Table (7FE0,0001/0002) with the same fragments.
        var withEot = scanned.Clone();
        var table = new byte[8 * eot.Count];
        var lengths = new byte[8 * eot.Count];
        for (int i = 0; i < eot.Count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(table.AsSpan(8 * i), eot[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(lengths.AsSpan(8 * i), eotLengths[i]);
        }
        withEot.SetBytes(DicomTags.ExtendedOffsetTable, DicomVR.OV, table);
        withEot.SetBytes(DicomTags.ExtendedOffsetTableLengths, DicomVR.OV, lengths);
        var eotFile = new DicomFile(withEot, file.TransferSyntax);
        Assert.Equal(FrameIndexSource.ExtendedOffsetTable, DicomPixelData.Create(eotFile).IndexSource);
        Assert.Equal(expected, Frames(eotFile));

        // One fragment per frame without a table.
        var single = file.Dataset.Clone();
        single.Set(new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB, DicomBuffer.Empty, seq.Fragments));
        var singleFile = new DicomFile(single, file.TransferSyntax);
        Assert.Equal(FrameIndexSource.OneFragmentPerFrame, DicomPixelData.Create(singleFile).IndexSource);
        Assert.Equal(expected, Frames(singleFile));

        // A wrong BOT is not trusted.
        var badBot = file.Dataset.Clone();
        var bot = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(bot.AsSpan(4), 12345);
        badBot.Set(new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB, DicomBuffer.From(bot), seq.Fragments));
        Assert.Equal(FrameIndexSource.OneFragmentPerFrame, DicomPixelData.Create(new DicomFile(badBot, file.TransferSyntax)).IndexSource);
    }

    [Fact]
    public void TooFewFragmentsIsAClearError()
    {
        var file = Rle2Frame();
        var seq = (DicomFragmentSequence)file.Dataset[DicomTags.PixelData];
        var ds = file.Dataset.Clone();
        ds.Set(new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB, DicomBuffer.Empty, [seq.Fragments[0]]));
        var ex = Assert.Throws<DicomPixelDataException>(() => DicomPixelData.Create(new DicomFile(ds, file.TransferSyntax)));
        Assert.Contains("fragments", ex.Message);
    }

    [Fact]
    public void OneBitFramesThatDoNotStartOnAByteAreRealigned()
    {
        // 3 frames of 3x3 = 9 bits each: frames 2 and 3 start mid-byte.
        var ds = new DicomDataset();
        new PixelDataInfo { Rows = 3, Columns = 3, NumberOfFrames = 3, BitsAllocated = 1, BitsStored = 1, HighBit = 0 }.ApplyTo(ds);
        var frames = new[] { new[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { 1, 1, 1, 0, 0, 0, 1, 1, 1 }, new[] { 0, 1, 0, 1, 0, 1, 0, 1, 0 } };
        var packed = new byte[4];
        int bit = 0;
        foreach (var f in frames) foreach (var v in f) { if (v == 1) packed[bit >> 3] |= (byte)(1 << (bit & 7)); bit++; }
        ds.SetBytes(DicomTags.PixelData, DicomVR.OB, packed);
        var pd = DicomPixelData.Create(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        for (int f = 0; f < 3; f++)
        {
            var frame = pd.GetFrame(f).Span;
            Assert.Equal(2, frame.Length);
            for (int p = 0; p < 9; p++) Assert.Equal(frames[f][p], (frame[p >> 3] >> (p & 7)) & 1);
        }
    }

    [Fact]
    public void BigEndianSamplesMatchLittleEndianOnes()
    {
        foreach (var (le, be) in new[] { ("rtdose.dcm", "rtdose_expb.dcm"), ("MR_small.dcm", "MR_small_bigendian.dcm"), ("liver_1frame.dcm", "liver_expb_1frame.dcm") })
        {
            var a = DicomPixelData.Create(DicomFile.Open(ImagingTools.SampleFile(le)));
            var b = DicomPixelData.Create(DicomFile.Open(ImagingTools.SampleFile(be)));
            Assert.Equal(a.FrameCount, b.FrameCount);
            for (int f = 0; f < a.FrameCount; f++) Assert.True(a.GetFrame(f).Span.SequenceEqual(b.GetFrame(f).Span), $"{be} frame {f}");
        }
    }

    [Fact]
    public void NativeYbrFull422HasTwoSamplesPerPixel()
    {
        var pd = DicomPixelData.Create(DicomFile.Open(ImagingTools.SampleFile("SC_ybr_full_422_uncompressed.dcm")));
        Assert.True(pd.Info.IsChromaSubsampled);
        Assert.Equal(100 * 100 * 2, pd.Info.FrameLength);
    }

    [Fact]
    public void LargeMultiFrameValuesAreReadPerFrameFromDisk()
    {
        // rtdose: 15 frames; with a tiny threshold the pixel data stays in the file and frames are read one by one.
        var file = DicomFile.Open(ImagingTools.SampleFile("rtdose.dcm"), new DicomReadOptions { LargeValueThreshold = 16 });
        Assert.IsType<FileRangeBuffer>(((DicomValueElement)file.Dataset[DicomTags.PixelData]).Buffer);
        var inMemory = DicomPixelData.Create(DicomFile.Open(ImagingTools.SampleFile("rtdose.dcm"), new DicomReadOptions { LargeValueThreshold = null }));
        var onDisk = DicomPixelData.Create(file);
        for (int f = 0; f < 15; f++) Assert.True(inMemory.GetFrame(f).Span.SequenceEqual(onDisk.GetFrame(f).Span));
    }

    [Fact]
    public void ModalityAndVoiFromEnhancedFunctionalGroups()
    {
        var ds = new DicomDataset();
        ds.Set(DicomTags.PhotometricInterpretation, "MONOCHROME2");
        ds.Set(DicomTags.RescaleSlope, "3"); // ignored: the functional groups take precedence
        var shared = new DicomDataset();
        var pvt = new DicomDataset();
        pvt.Set(DicomTags.RescaleSlope, "2");
        pvt.Set(DicomTags.RescaleIntercept, "-100");
        pvt.Set(DicomTags.RescaleType, "US");
        shared.SetSequence(DicomTags.PixelValueTransformationSequence, pvt);
        ds.SetSequence(DicomTags.SharedFunctionalGroupsSequence, shared);
        var frame0 = new DicomDataset();
        var voi0 = new DicomDataset();
        voi0.Set(DicomTags.WindowCenter, "10");
        voi0.Set(DicomTags.WindowWidth, "20");
        voi0.Set(DicomTags.VOILUTFunction, "SIGMOID");
        frame0.SetSequence(DicomTags.FrameVOILUTSequence, voi0);
        var frame1 = new DicomDataset();
        var pvt1 = new DicomDataset();
        pvt1.Set(DicomTags.RescaleSlope, "1");
        pvt1.Set(DicomTags.RescaleIntercept, "5");
        frame1.SetSequence(DicomTags.PixelValueTransformationSequence, pvt1);
        ds.SetSequence(DicomTags.PerFrameFunctionalGroupsSequence, frame0, frame1);

        Assert.Equal(2 * 7 - 100, ModalityTransform.For(ds, 0).Apply(7));
        Assert.Equal(12, ModalityTransform.For(ds, 1).Apply(7));
        Assert.Equal(new VoiWindow(10, 20, VoiLutFunction.Sigmoid), VoiTransform.FromDataset(ds, 0)!.Window);
        Assert.Null(VoiTransform.FromDataset(ds, 1));
    }

    [Fact]
    public void ModalityLutAndSegmentedPaletteAreExpanded()
    {
        var ds = new DicomDataset();
        ds.Set(DicomTags.PhotometricInterpretation, "MONOCHROME2");
        var item = new DicomDataset();
        item.Set<ushort>(DicomTags.LUTDescriptor, DicomVR.US, 4, 10, 16);
        item.SetBytes(DicomTags.LUTData, DicomVR.OW, new byte[] { 0, 0, 100, 0, 200, 0, 44, 1 });
        ds.SetSequence(DicomTags.ModalityLUTSequence, item);
        var m = ModalityTransform.For(ds);
        Assert.Equal(0, m.Apply(5)); // below the first mapped value
        Assert.Equal(200, m.Apply(12));
        Assert.Equal(300, m.Apply(99)); // past the end

        // Segmented: discrete 2 values, linear ramp of 4 to 100, then an indirect copy of the first segment.
        ushort[] words = [0, 2, 0, 10, 1, 4, 100, 2, 1, 0, 0];
        var bytes = new byte[words.Length * 2];
        for (int i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), words[i]);
        var expanded = PaletteColorLut.ExpandSegmented(bytes, 8);
        Assert.Equal(new ushort[] { 0, 10, 32, 55, 78, 100, 0, 10 }, expanded); // 10 + 90k/4, rounded half to even
    }
}
