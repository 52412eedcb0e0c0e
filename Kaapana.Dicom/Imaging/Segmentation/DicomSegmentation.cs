using System.Globalization;
using Kaapana.Dicom.Imaging.Codecs;

namespace Kaapana.Dicom.Imaging.Segmentation;

/// <summary>Identification and content attributes of a new segmentation instance.</summary>
public sealed record SegmentationOptions
{
    /// <summary>For <see cref="SegmentationType.Fractional"/>: PROBABILITY or OCCUPANCY.</summary>
    public string FractionalType { get; init; } = "PROBABILITY";
    /// <summary>For fractional segmentations: the stored value meaning 1.0 (1..255, 8-bit storage).</summary>
    public int MaximumFractionalValue { get; init; } = 255;
    public string SeriesDescription { get; init; } = "Segmentation";
    public int SeriesNumber { get; init; } = 300;
    public int InstanceNumber { get; init; } = 1;
    /// <summary>Content Label (CS: upper case, digits, space, underscore; at most 16 characters).</summary>
    public string ContentLabel { get; init; } = "SEGMENTATION";
    public string ContentDescription { get; init; } = "";
    public string ContentCreatorName { get; init; } = "";
    public string Manufacturer { get; init; } = "Kaapana";
    public string ManufacturerModelName { get; init; } = "Kaapana.Dicom";
    public string DeviceSerialNumber { get; init; } = "1";
    public string SoftwareVersions { get; init; } = DicomImplementation.VersionName;
    public string? SeriesInstanceUid { get; init; }
    public string? SopInstanceUid { get; init; }
    public DateTime? ContentDateTime { get; init; }
}

/// <summary>A segmentation read back into the geometry of its source series.</summary>
public sealed class SegmentationResult
{
    internal SegmentationResult(SegmentationType type, int maximumFractionalValue, IReadOnlyList<SegmentDescription> segments,
        IReadOnlyDictionary<int, byte[]> masks, int slices, int rows, int columns)
    {
        Type = type;
        MaximumFractionalValue = maximumFractionalValue;
        Segments = segments;
        Masks = masks;
        Slices = slices;
        Rows = rows;
        Columns = columns;
    }

    public SegmentationType Type { get; }
    public int MaximumFractionalValue { get; }
    public IReadOnlyList<SegmentDescription> Segments { get; }
    /// <summary>Per segment number, one byte per source voxel (slice-major in source order): 0/1 for binary, 0..max for fractional.</summary>
    public IReadOnlyDictionary<int, byte[]> Masks { get; }
    public int Slices { get; }
    public int Rows { get; }
    public int Columns { get; }

    /// <summary>
    /// All segments in one label volume (segment number per voxel; where segments overlap the higher number wins).
    /// Fractional values count as inside from half the maximum on.
    /// </summary>
    public LabelVolume ToLabelVolume()
    {
        var volume = new LabelVolume(Slices, Rows, Columns);
        int threshold = Type == SegmentationType.Binary ? 1 : (MaximumFractionalValue + 1) / 2;
        foreach (var (number, mask) in Masks.OrderBy(m => m.Key))
            for (long i = 0; i < mask.LongLength; i++)
                if (mask[i] >= threshold) volume.Data[i] = (ushort)number;
        return volume;
    }
}

/// <summary>
/// DICOM Segmentation objects (PS3.3 A.51, C.8.20): written from label volumes aligned with a source series and read back
/// into that geometry. Frames: one per segment and source slice where the segment is present (empty frames are omitted),
/// ordered by segment then by position; Dimension Index Values are (segment number, slice index).
/// </summary>
public static class DicomSegmentation
{
    private static readonly CodedConcept SourceImagePurpose = new("121322", "DCM", "Source image for image processing operation");
    private static readonly CodedConcept SegmentationDerivation = new("113076", "DCM", "Segmentation");

    /// <summary>A BINARY segmentation: voxel value = segment number (0 = background), 1-bit packed pixel data.</summary>
    public static DicomFile CreateBinary(SourceGeometry source, LabelVolume labels, IReadOnlyList<SegmentDescription> segments, SegmentationOptions? options = null)
    {
        CheckVolume(source, labels.Slices, labels.Rows, labels.Columns);
        int sliceLength = labels.SliceLength;
        return Build(source, segments, SegmentationType.Binary, options ?? new SegmentationOptions(), (segment, slice) =>
        {
            byte[]? frame = null;
            long start = (long)slice * sliceLength;
            for (int i = 0; i < sliceLength; i++)
            {
                if (labels.Data[start + i] != segment) continue;
                frame ??= new byte[sliceLength];
                frame[i] = 1;
            }
            return frame;
        });
    }

    /// <summary>A FRACTIONAL segmentation: per segment a map of values in [0, 1] (slice-major in source order), stored as 8-bit.</summary>
    public static DicomFile CreateFractional(SourceGeometry source, IReadOnlyDictionary<int, float[]> maps, IReadOnlyList<SegmentDescription> segments, SegmentationOptions? options = null)
    {
        options ??= new SegmentationOptions();
        int rows = source.Rows, cols = source.Columns, sliceLength = rows * cols;
        foreach (var (number, map) in maps)
            if (map.LongLength != (long)source.Slices.Count * sliceLength)
                throw new ArgumentException($"The map of segment {number} does not match the source volume.", nameof(maps));
        int max = Math.Clamp(options.MaximumFractionalValue, 1, 255);
        return Build(source, segments, SegmentationType.Fractional, options, (segment, slice) =>
        {
            if (!maps.TryGetValue(segment, out var map)) return null;
            byte[]? frame = null;
            long start = (long)slice * sliceLength;
            for (int i = 0; i < sliceLength; i++)
            {
                var v = (byte)Math.Round(Math.Clamp(map[start + i], 0f, 1f) * max);
                if (v == 0) continue;
                frame ??= new byte[sliceLength];
                frame[i] = v;
            }
            return frame;
        });
    }

    private static void CheckVolume(SourceGeometry source, int slices, int rows, int columns)
    {
        if (slices != source.Slices.Count || rows != source.Rows || columns != source.Columns)
            throw new ArgumentException($"Label volume {columns}x{rows}x{slices} does not match the source series {source.Columns}x{source.Rows}x{source.Slices.Count}.");
    }

    private static DicomFile Build(SourceGeometry source, IReadOnlyList<SegmentDescription> segments, SegmentationType type, SegmentationOptions options,
        Func<int, int, byte[]?> frameOf)
    {
        if (segments.Count == 0) throw new ArgumentException("A segmentation needs at least one segment.", nameof(segments));
        if (segments.Select(s => s.Number).Distinct().Count() != segments.Count || segments.Any(s => s.Number < 1))
            throw new ArgumentException("Segment numbers must be unique and start at 1.", nameof(segments));
        var first = source.Slices[0];
        int rows = source.Rows, cols = source.Columns;
        var ds = new DicomDataset();
        var now = options.ContentDateTime ?? DateTime.Now;
        string date = now.ToString("yyyyMMdd", CultureInfo.InvariantCulture), time = now.ToString("HHmmss", CultureInfo.InvariantCulture);
        if (first.Contains(DicomTags.SpecificCharacterSet)) ds.Set(first[DicomTags.SpecificCharacterSet]);

        // SOP Common, Patient, General Study: copied from the source so the SEG joins its study.
        ds.Set(DicomTags.SOPClassUID, DicomUids.SegmentationStorage);
        ds.Set(DicomTags.SOPInstanceUID, options.SopInstanceUid ?? DicomUidGenerator.New());
        foreach (var tag in new[]
                 {
                     DicomTags.PatientName, DicomTags.PatientID, DicomTags.PatientBirthDate, DicomTags.PatientSex,
                     DicomTags.StudyInstanceUID, DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.ReferringPhysicianName,
                     DicomTags.StudyID, DicomTags.AccessionNumber, DicomTags.StudyDescription,
                 })
        {
            if (first.TryGetElement(tag, out var e)) ds.Set(e);
            else if (tag != DicomTags.StudyDescription) ds.SetEmpty(tag);
        }
        // General Series / Segmentation Series.
        ds.Set(DicomTags.Modality, "SEG");
        ds.Set(DicomTags.SeriesInstanceUID, options.SeriesInstanceUid ?? DicomUidGenerator.New());
        ds.Set(DicomTags.SeriesNumber, options.SeriesNumber.ToString(CultureInfo.InvariantCulture));
        if (options.SeriesDescription.Length > 0) ds.Set(DicomTags.SeriesDescription, options.SeriesDescription);
        ds.Set(DicomTags.SeriesDate, date);
        ds.Set(DicomTags.SeriesTime, time);
        // Frame of Reference.
        ds.Set(DicomTags.FrameOfReferenceUID, first.GetString(DicomTags.FrameOfReferenceUID) is { Length: > 0 } forUid ? forUid
            : throw new DicomPixelDataException("Source images need a Frame of Reference UID."));
        ds.Set(DicomTags.PositionReferenceIndicator, first.GetString(DicomTags.PositionReferenceIndicator));
        // General / Enhanced General Equipment.
        ds.Set(DicomTags.Manufacturer, options.Manufacturer);
        ds.Set(DicomTags.ManufacturerModelName, options.ManufacturerModelName);
        ds.Set(DicomTags.DeviceSerialNumber, options.DeviceSerialNumber);
        ds.Set(DicomTags.SoftwareVersions, options.SoftwareVersions);
        // General Image / Segmentation Image.
        ds.Set(DicomTags.InstanceNumber, options.InstanceNumber.ToString(CultureInfo.InvariantCulture));
        ds.Set(DicomTags.ContentDate, date);
        ds.Set(DicomTags.ContentTime, time);
        ds.Set(DicomTags.ImageType, "DERIVED", "PRIMARY");
        ds.Set(DicomTags.ContentLabel, options.ContentLabel);
        ds.Set(DicomTags.ContentDescription, options.ContentDescription);
        ds.Set(DicomTags.ContentCreatorName, options.ContentCreatorName);
        ds.Set(DicomTags.LossyImageCompression, "00");
        ds.Set(DicomTags.SegmentationType, type == SegmentationType.Binary ? "BINARY" : "FRACTIONAL");
        if (type == SegmentationType.Fractional)
        {
            ds.Set(DicomTags.SegmentationFractionalType, options.FractionalType);
            ds.Set<ushort>(DicomTags.MaximumFractionalValue, (ushort)Math.Clamp(options.MaximumFractionalValue, 1, 255));
        }
        ds.SetSequence(DicomTags.SegmentSequence, segments.OrderBy(s => s.Number).Select(SegmentItem).ToArray());

        // Frames: by segment, then along the normal; empty ones are left out.
        var frames = new List<(int Segment, int Slice, byte[] Values)>();
        foreach (var segment in segments.OrderBy(s => s.Number))
            for (int slice = 0; slice < source.Slices.Count; slice++)
                if (frameOf(segment.Number, slice) is { } values) frames.Add((segment.Number, slice, values));
        if (frames.Count == 0) throw new ArgumentException("Every segment is empty: a segmentation needs at least one frame.");

        var info = new PixelDataInfo
        {
            Rows = rows,
            Columns = cols,
            NumberOfFrames = frames.Count,
            BitsAllocated = type == SegmentationType.Binary ? 1 : 8,
            BitsStored = type == SegmentationType.Binary ? 1 : 8,
            HighBit = type == SegmentationType.Binary ? 0 : 7,
            PhotometricInterpretation = PhotometricInterpretation.Monochrome2,
        };
        // Number of Frames is Type 1 in a SEG even for one frame (ApplyTo writes it only for several, or when present).
        ds.Set(DicomTags.NumberOfFrames, frames.Count.ToString(CultureInfo.InvariantCulture));
        info.ApplyTo(ds);

        // Multi-frame Functional Groups.
        var shared = new DicomDataset();
        var measures = new DicomDataset();
        if (first.GetValues<double>(DicomTags.PixelSpacing) is { Length: 2 } spacing) measures.Set(DicomTags.PixelSpacing, spacing);
        double gap = source.Distances.Length > 1 ? (source.Distances[^1] - source.Distances[0]) / (source.Distances.Length - 1) : 0;
        double thickness = first.TryGet<double>(DicomTags.SliceThickness, out var t) && t > 0 ? t : gap > 0 ? gap : 1;
        measures.Set(DicomTags.SliceThickness, thickness);
        if (gap > 0) measures.Set(DicomTags.SpacingBetweenSlices, Math.Round(gap, 6));
        shared.SetSequence(DicomTags.PixelMeasuresSequence, measures);
        var orientation = new DicomDataset();
        orientation.Set(DicomTags.ImageOrientationPatient, source.Orientation);
        shared.SetSequence(DicomTags.PlaneOrientationSequence, orientation);
        ds.SetSequence(DicomTags.SharedFunctionalGroupsSequence, shared);

        var perFrame = new List<DicomDataset>(frames.Count);
        foreach (var (segment, slice, _) in frames)
        {
            var src = source.Slices[slice];
            var item = new DicomDataset();
            var sourceImage = new DicomDataset();
            sourceImage.Set(DicomTags.ReferencedSOPClassUID, src.GetString(DicomTags.SOPClassUID));
            sourceImage.Set(DicomTags.ReferencedSOPInstanceUID, src.GetString(DicomTags.SOPInstanceUID));
            sourceImage.SetSequence(DicomTags.PurposeOfReferenceCodeSequence, SourceImagePurpose.ToItem());
            var derivation = new DicomDataset();
            derivation.SetSequence(DicomTags.DerivationCodeSequence, SegmentationDerivation.ToItem());
            derivation.SetSequence(DicomTags.SourceImageSequence, sourceImage);
            item.SetSequence(DicomTags.DerivationImageSequence, derivation);
            var content = new DicomDataset();
            content.Set<uint>(DicomTags.DimensionIndexValues, (uint)segment, (uint)(slice + 1));
            item.SetSequence(DicomTags.FrameContentSequence, content);
            var position = new DicomDataset();
            position.Set(DicomTags.ImagePositionPatient, source.Positions[slice]);
            item.SetSequence(DicomTags.PlanePositionSequence, position);
            var identification = new DicomDataset();
            identification.Set<ushort>(DicomTags.ReferencedSegmentNumber, (ushort)segment);
            item.SetSequence(DicomTags.SegmentIdentificationSequence, identification);
            perFrame.Add(item);
        }
        ds.SetSequence(DicomTags.PerFrameFunctionalGroupsSequence, perFrame.ToArray());

        // Multi-frame Dimension: segment number, then position.
        var organizationUid = DicomUidGenerator.New();
        var organization = new DicomDataset();
        organization.Set(DicomTags.DimensionOrganizationUID, organizationUid);
        ds.SetSequence(DicomTags.DimensionOrganizationSequence, organization);
        ds.Set(DicomTags.DimensionOrganizationType, "3D");
        ds.SetSequence(DicomTags.DimensionIndexSequence,
            DimensionItem(organizationUid, DicomTags.ReferencedSegmentNumber, DicomTags.SegmentIdentificationSequence, "ReferencedSegmentNumber"),
            DimensionItem(organizationUid, DicomTags.ImagePositionPatient, DicomTags.PlanePositionSequence, "ImagePositionPatient"));

        // Common Instance Reference: the source series and the instances the frames derive from.
        var referencedInstances = frames.Select(f => f.Slice).Distinct().Order().Select(slice =>
        {
            var r = new DicomDataset();
            r.Set(DicomTags.ReferencedSOPClassUID, source.Slices[slice].GetString(DicomTags.SOPClassUID));
            r.Set(DicomTags.ReferencedSOPInstanceUID, source.Slices[slice].GetString(DicomTags.SOPInstanceUID));
            return r;
        }).ToArray();
        var series = new DicomDataset();
        series.Set(DicomTags.SeriesInstanceUID, first.GetString(DicomTags.SeriesInstanceUID));
        series.SetSequence(DicomTags.ReferencedInstanceSequence, referencedInstances);
        ds.SetSequence(DicomTags.ReferencedSeriesSequence, series);

        ds.Set(new DicomValueElement(DicomTags.PixelData, DicomVR.OB, DicomBuffer.From(PackFrames(frames.Select(f => f.Values).ToList(), info))));
        return new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
    }

    private static DicomDataset DimensionItem(string organizationUid, DicomTag pointer, DicomTag group, string label)
    {
        var item = new DicomDataset();
        item.Set(DicomTags.DimensionOrganizationUID, organizationUid);
        item.Set(DicomTags.DimensionIndexPointer, DicomVR.AT, pointer);
        item.Set(DicomTags.FunctionalGroupPointer, DicomVR.AT, group);
        item.Set(DicomTags.DimensionDescriptionLabel, label);
        return item;
    }

    private static DicomDataset SegmentItem(SegmentDescription s)
    {
        var item = new DicomDataset();
        item.Set<ushort>(DicomTags.SegmentNumber, (ushort)s.Number);
        item.Set(DicomTags.SegmentLabel, s.Label);
        if (s.Description is { Length: > 0 } d) item.Set(DicomTags.SegmentDescription, d);
        item.Set(DicomTags.SegmentAlgorithmType, s.AlgorithmType.ToString().ToUpperInvariant());
        if (s.AlgorithmType != SegmentAlgorithmType.Manual)
        {
            var algorithm = s.Algorithm ?? throw new ArgumentException($"Segment {s.Number} is {s.AlgorithmType}: it needs an algorithm identification.");
            item.Set(DicomTags.SegmentAlgorithmName, algorithm.Name);
            var identification = new DicomDataset();
            identification.SetSequence(DicomTags.AlgorithmFamilyCodeSequence, algorithm.Family.ToItem());
            identification.Set(DicomTags.AlgorithmName, algorithm.Name);
            identification.Set(DicomTags.AlgorithmVersion, algorithm.Version);
            if (algorithm.Parameters is { Length: > 0 } p) identification.Set(DicomTags.AlgorithmParameters, p);
            item.SetSequence(DicomTags.SegmentationAlgorithmIdentificationSequence, identification);
        }
        item.SetSequence(DicomTags.SegmentedPropertyCategoryCodeSequence, s.Category.ToItem());
        item.SetSequence(DicomTags.SegmentedPropertyTypeCodeSequence, s.Type.ToItem());
        if (s.AnatomicRegion is { } region) item.SetSequence(DicomTags.AnatomicRegionSequence, region.ToItem());
        if (s.RecommendedDisplayCieLab is { Length: 3 } lab) item.Set<ushort>(DicomTags.RecommendedDisplayCIELabValue, lab);
        return item;
    }

    /// <summary>Binary frames are packed 8 pixels a byte, least significant bit first, with no padding between frames (PS3.5 8.1.1).</summary>
    private static byte[] PackFrames(List<byte[]> frames, PixelDataInfo info)
    {
        long pixels = info.PixelsPerFrame;
        if (info.BitsAllocated == 8)
        {
            var all = new byte[pixels * frames.Count + ((pixels * frames.Count) & 1)];
            for (int f = 0; f < frames.Count; f++) frames[f].CopyTo(all, f * pixels);
            return all;
        }
        long bits = pixels * frames.Count;
        var packed = new byte[((bits + 7) / 8 + 1) & ~1L];
        long bit = 0;
        foreach (var frame in frames)
            for (long p = 0; p < pixels; p++, bit++)
                if (frame[p] != 0) packed[bit >> 3] |= (byte)(1 << (int)(bit & 7));
        return packed;
    }

    // ---- reading ----

    /// <summary>
    /// Reads a segmentation into the geometry of <paramref name="source"/>. Frames are mapped to source slices by the
    /// referenced SOP Instance UID of their Source Image Sequence, or else by Image Position (Patient) along the normal.
    /// </summary>
    public static SegmentationResult Read(DicomFile segmentation, SourceGeometry source, DicomCodecs? codecs = null)
    {
        var ds = segmentation.Dataset;
        if (ds.GetString(DicomTags.SOPClassUID) != DicomUids.SegmentationStorage)
            throw new DicomPixelDataException("Not a Segmentation Storage instance.");
        var type = ds.GetString(DicomTags.SegmentationType) == "FRACTIONAL" ? SegmentationType.Fractional : SegmentationType.Binary;
        int max = type == SegmentationType.Fractional ? ds.GetOrDefault(DicomTags.MaximumFractionalValue, 255) : 1;
        var segments = ReadSegments(ds);
        var pixelData = DicomPixelData.Create(segmentation);
        var info = pixelData.Info;
        int rows = source.Rows, cols = source.Columns, sliceLength = rows * cols;
        if (info.Rows != rows || info.Columns != cols)
            throw new DicomPixelDataException($"Segmentation frames are {info.Columns}x{info.Rows}, the source images {cols}x{rows}.");

        var byUid = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < source.Slices.Count; i++) byUid[source.Slices[i].GetString(DicomTags.SOPInstanceUID)] = i;
        var masks = new Dictionary<int, byte[]>();
        foreach (var s in segments) masks[s.Number] = new byte[(long)source.Slices.Count * sliceLength];
        codecs ??= DicomCodecs.Default;

        for (int f = 0; f < pixelData.FrameCount; f++)
        {
            var segmentItem = FunctionalGroups.GetFrameMacro(ds, f, DicomTags.SegmentIdentificationSequence)
                ?? throw new DicomPixelDataException($"Frame {f + 1} has no Segment Identification Sequence.");
            int segment = segmentItem.Get<int>(DicomTags.ReferencedSegmentNumber);
            if (!masks.TryGetValue(segment, out var mask)) throw new DicomPixelDataException($"Frame {f + 1} refers to segment {segment}, which the Segment Sequence lacks.");
            int slice = SliceOf(ds, f, source, byUid) ?? throw new DicomPixelDataException($"Frame {f + 1} matches no source slice.");
            var frame = codecs.DecodeFrame(pixelData, f).Data;
            long start = (long)slice * sliceLength;
            if (info.BitsAllocated == 1)
            {
                for (int p = 0; p < sliceLength; p++)
                    if (((frame[p >> 3] >> (p & 7)) & 1) != 0) mask[start + p] = 1;
            }
            else
            {
                for (int p = 0; p < sliceLength; p++)
                    if (frame[p] != 0) mask[start + p] = frame[p];
            }
        }
        return new SegmentationResult(type, max, segments, masks, source.Slices.Count, rows, cols);
    }

    private static int? SliceOf(DicomDataset ds, int frame, SourceGeometry source, Dictionary<string, int> byUid)
    {
        var derivation = FunctionalGroups.GetFrameMacro(ds, frame, DicomTags.DerivationImageSequence);
        if (derivation != null && derivation.TryGetSequence(DicomTags.SourceImageSequence, out var sources))
            foreach (var s in sources.Items)
                if (byUid.TryGetValue(s.GetString(DicomTags.ReferencedSOPInstanceUID), out var slice)) return slice;
        var position = FunctionalGroups.GetFrameMacro(ds, frame, DicomTags.PlanePositionSequence)?.GetValues<double>(DicomTags.ImagePositionPatient);
        return position is { Length: 3 } ? source.SliceAt(position) : null;
    }

    /// <summary>The Segment Sequence as descriptions.</summary>
    public static IReadOnlyList<SegmentDescription> ReadSegments(DicomDataset ds)
    {
        if (!ds.TryGetSequence(DicomTags.SegmentSequence, out var seq)) throw new DicomPixelDataException("Segmentation without Segment Sequence.");
        return seq.Items.Select(item =>
        {
            var identification = item.TryGetSequence(DicomTags.SegmentationAlgorithmIdentificationSequence, out var ai) && ai.Items.Count > 0 ? ai.Items[0] : null;
            var algorithmName = item.GetString(DicomTags.SegmentAlgorithmName);
            return new SegmentDescription
            {
                Number = item.Get<int>(DicomTags.SegmentNumber),
                Label = item.GetString(DicomTags.SegmentLabel),
                Description = item.GetString(DicomTags.SegmentDescription) is { Length: > 0 } d ? d : null,
                Category = CodedConcept.FromSequence(item, DicomTags.SegmentedPropertyCategoryCodeSequence) ?? new CodedConcept("", "", ""),
                Type = CodedConcept.FromSequence(item, DicomTags.SegmentedPropertyTypeCodeSequence) ?? new CodedConcept("", "", ""),
                AlgorithmType = item.GetString(DicomTags.SegmentAlgorithmType) switch
                {
                    "MANUAL" => SegmentAlgorithmType.Manual,
                    "SEMIAUTOMATIC" => SegmentAlgorithmType.Semiautomatic,
                    _ => SegmentAlgorithmType.Automatic,
                },
                Algorithm = algorithmName.Length == 0 ? null : new AlgorithmIdentification(
                    algorithmName,
                    identification?.GetString(DicomTags.AlgorithmVersion) ?? "",
                    identification != null ? CodedConcept.FromSequence(identification, DicomTags.AlgorithmFamilyCodeSequence) ?? new CodedConcept("", "", "") : new CodedConcept("", "", ""),
                    identification?.GetString(DicomTags.AlgorithmParameters) is { Length: > 0 } p ? p : null),
                RecommendedDisplayCieLab = item.GetValues<ushort>(DicomTags.RecommendedDisplayCIELabValue) is { Length: 3 } lab ? lab : null,
                AnatomicRegion = CodedConcept.FromSequence(item, DicomTags.AnatomicRegionSequence),
            };
        }).ToList();
    }
}
