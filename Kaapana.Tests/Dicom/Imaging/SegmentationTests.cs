using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Segmentation;

namespace Kaapana.Tests.Dicom.Imaging;

/// <summary>DICOM SEG from a synthetic CT series: written, validated by dciodvfy and dcmdump, read back to the same labels.</summary>
public class SegmentationTests
{
    private const int Slices = 20, Size = 64;

    private static (List<DicomFile> Series, SourceGeometry Geometry, LabelVolume Labels, SegmentDescription[] Segments) Fixture()
    {
        var series = SyntheticCt.Series(Slices, Size);
        var geometry = SourceGeometry.FromInstances(series.Select(f => f.Dataset));
        var labels = new LabelVolume(Slices, Size, Size);
        for (int z = 0; z < Slices; z++)
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                {
                    double dx = (x - 32) * 0.7, dy = (y - 32) * 0.7, dz = (z - 10) * 2.5;
                    if (dx * dx + dy * dy + dz * dz < 12 * 12) labels[z, y, x] = 1; // sphere, radius 12 mm
                    else if (x is >= 4 and < 16 && y is >= 6 and < 22 && z is >= 2 and < 7) labels[z, y, x] = 2; // box
                }
        var segments = new[]
        {
            new SegmentDescription
            {
                Number = 1, Label = "Lesion", Description = "Spherical lesion",
                Category = CodedConcept.MorphologicallyAbnormalStructure, Type = CodedConcept.Tumor,
                AlgorithmType = SegmentAlgorithmType.Automatic,
                Algorithm = new AlgorithmIdentification("KaapanaSphereNet", "1.2.0", CodedConcept.ArtificialIntelligence),
                RecommendedDisplayCieLab = CieLab.FromRgb(255, 0, 0),
            },
            new SegmentDescription
            {
                Number = 2, Label = "Box", Category = CodedConcept.AnatomicalStructure, Type = CodedConcept.Liver,
                AlgorithmType = SegmentAlgorithmType.Manual, RecommendedDisplayCieLab = CieLab.FromRgb(0, 128, 255),
                AnatomicRegion = new CodedConcept("818981001", "SCT", "Abdomen"),
            },
        };
        return (series, geometry, labels, segments);
    }

    [Fact]
    public void BinarySegRoundTripsAndValidates()
    {
        var (series, geometry, labels, segments) = Fixture();
        var seg = DicomSegmentation.CreateBinary(geometry, labels, segments, new SegmentationOptions { ContentCreatorName = "Test^Runner" });
        using var dir = new ImagingTools.TempDir();
        var path = dir.File("seg.dcm");
        seg.Save(path);

        // Empty frames are omitted: one frame per (segment, slice) that holds the segment.
        int expectedFrames = Enumerable.Range(1, 2).Sum(s => Enumerable.Range(0, Slices).Count(z => labels.Data.AsSpan(z * Size * Size, Size * Size).Contains((ushort)s)));
        Assert.True(expectedFrames < 2 * Slices);
        var read = DicomFile.Open(path);
        Assert.Equal(expectedFrames, read.Dataset.Get<int>(DicomTags.NumberOfFrames));
        Assert.Equal(1, read.Dataset.Get<int>(DicomTags.BitsAllocated));
        Assert.Equal((expectedFrames * Size * Size / 8 + 1) & ~1, ((DicomValueElement)read.Dataset[DicomTags.PixelData]).Length);

        // Round trip: the same labels in source geometry, mapped by referenced instance...
        var back = DicomSegmentation.Read(read, SourceGeometry.FromInstances(series.Select(f => f.Dataset).Reverse()));
        Assert.Equal(SegmentationType.Binary, back.Type);
        Assert.True(back.ToLabelVolume().Data.AsSpan().SequenceEqual(labels.Data));
        Assert.Equal(segments.Select(s => (s.Number, s.Label, s.Type, s.Category)), back.Segments.Select(s => (s.Number, s.Label, s.Type, s.Category)));
        Assert.Equal("KaapanaSphereNet", back.Segments[0].Algorithm!.Name);
        Assert.Equal("1.2.0", back.Segments[0].Algorithm!.Version);
        Assert.Equal(segments[1].RecommendedDisplayCieLab, back.Segments[1].RecommendedDisplayCieLab);

        // ... and by position when the source instances are other objects with the same geometry (e.g. a re-export).
        var reexported = series.Select(f => { var d = f.Dataset.Clone(); d.Set(DicomTags.SOPInstanceUID, DicomUidGenerator.New()); return d; });
        var byPosition = DicomSegmentation.Read(read, SourceGeometry.FromInstances(reexported));
        Assert.True(byPosition.ToLabelVolume().Data.AsSpan().SequenceEqual(labels.Data));

        // dciodvfy: no errors (and, at the time of writing, no warnings either).
        var verify = ImagingTools.Run("dciodvfy", path);
        var output = verify.Stderr + verify.Text;
        Assert.DoesNotContain("Error", output);
        Assert.Contains("Segmentation", output);

        // dcmdump shows the Segment Sequence with both segments.
        var dump = ImagingTools.RunOk("dcmdump", "+P", "0062,0002", "+P", "0062,0005", "+P", "0062,0004", path).Text;
        Assert.Contains("SegmentSequence", dump);
        Assert.Contains("[Lesion]", dump);
        Assert.Contains("[Box]", dump);
        var full = ImagingTools.RunOk("dcmdump", path).Text;
        foreach (var keyword in new[] { "SegmentSequence", "SegmentedPropertyCategoryCodeSequence", "SegmentedPropertyTypeCodeSequence",
                     "RecommendedDisplayCIELabValue", "SegmentationAlgorithmIdentificationSequence", "ReferencedSeriesSequence",
                     "DerivationImageSequence", "SourceImageSequence", "PlanePositionSequence", "PlaneOrientationSequence",
                     "SegmentIdentificationSequence", "FrameContentSequence", "DimensionIndexValues", "DimensionOrganizationSequence",
                     "DimensionIndexSequence", "SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence", "FrameOfReferenceUID" })
            Assert.Contains(keyword, full);
    }

    [Fact]
    public void FractionalSegRoundTripsAndValidates()
    {
        var (series, geometry, labels, segments) = Fixture();
        var maps = new Dictionary<int, float[]>
        {
            [1] = labels.Data.Select((v, i) => v == 1 ? 0.5f + 0.5f * (i % 7) / 6f : 0f).ToArray(),
            [2] = labels.Data.Select(v => v == 2 ? 1f : 0f).ToArray(),
        };
        var seg = DicomSegmentation.CreateFractional(geometry, maps, segments, new SegmentationOptions { FractionalType = "PROBABILITY", MaximumFractionalValue = 200 });
        using var dir = new ImagingTools.TempDir();
        var path = dir.File("frac.dcm");
        seg.Save(path);
        var verify = ImagingTools.Run("dciodvfy", path);
        Assert.DoesNotContain("Error", verify.Stderr + verify.Text);

        var back = DicomSegmentation.Read(DicomFile.Open(path), geometry);
        Assert.Equal(SegmentationType.Fractional, back.Type);
        Assert.Equal(200, back.MaximumFractionalValue);
        for (int i = 0; i < labels.Data.Length; i++)
            Assert.Equal((byte)Math.Round(maps[1][i] * 200), back.Masks[1][i]);
        Assert.True(back.ToLabelVolume().Data.AsSpan().SequenceEqual(labels.Data));
    }

    [Fact]
    public void InvalidInputIsRejected()
    {
        var (series, geometry, labels, segments) = Fixture();
        Assert.Throws<ArgumentException>(() => DicomSegmentation.CreateBinary(geometry, new LabelVolume(Slices - 1, Size, Size), segments));
        Assert.Throws<ArgumentException>(() => DicomSegmentation.CreateBinary(geometry, new LabelVolume(Slices, Size, Size), segments)); // all empty
        Assert.Throws<ArgumentException>(() => DicomSegmentation.CreateBinary(geometry, labels, [segments[0] with { Algorithm = null }]));
        Assert.Throws<DicomPixelDataException>(() => DicomSegmentation.Read(series[0], geometry)); // a CT is not a SEG
    }

    [Fact]
    public void CieLabOfPrimaries()
    {
        // White is L* 100, a* = b* = 0; sRGB red is about (53.2, 80.1, 67.2).
        var white = CieLab.FromRgb(255, 255, 255);
        Assert.Equal(65535, white[0]);
        Assert.InRange(white[1], 32895, 32897);
        Assert.InRange(white[2], 32895, 32897);
        var red = CieLab.FromRgb(255, 0, 0);
        Assert.InRange(red[0] * 100.0 / 65535, 53.0, 53.5);
        Assert.InRange(red[1] * 255.0 / 65535 - 128, 79.5, 80.5);
        Assert.InRange(red[2] * 255.0 / 65535 - 128, 66.5, 67.5);
    }
}
