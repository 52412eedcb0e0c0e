using Kaapana.Dicom;

namespace Kaapana.Tests.Archive;

/// <summary>Generated instances built with our own data set API and written with <see cref="DicomFile.Save(Stream, DicomWriteOptions?)"/>.</summary>
public static class TestInstances
{
    public const string CTImageStorage = "1.2.840.10008.5.1.4.1.1.2";
    public const string MRImageStorage = "1.2.840.10008.5.1.4.1.1.4";
    private static readonly string Root = "2.25." + Random.Shared.NextInt64(1, long.MaxValue);
    private static long s_counter;

    /// <summary>A fresh UID (unique for the test run).</summary>
    public static string NewUid() => $"{Root}.{Interlocked.Increment(ref s_counter)}";

    public sealed record Spec(
        string PatientID, string PatientName, string StudyUid, string SeriesUid, string SopUid,
        string Modality = "CT", int InstanceNumber = 1, int Size = 16, string? SeriesDescription = null, int SeriesNumber = 1,
        string StudyDate = "20240115", string? Extra = null);

    public static DicomDataset CreateDataset(Spec s)
    {
        var ds = new DicomDataset();
        ds.Set(DicomTags.SpecificCharacterSet, "ISO_IR 192");
        ds.Set(DicomTags.SOPClassUID, s.Modality == "MR" ? MRImageStorage : CTImageStorage);
        ds.Set(DicomTags.SOPInstanceUID, s.SopUid);
        ds.Set(DicomTags.StudyDate, s.StudyDate);
        ds.Set(DicomTags.StudyTime, "101500");
        ds.Set(DicomTags.AccessionNumber, "ACC" + s.StudyUid[^4..]);
        ds.Set(DicomTags.Modality, s.Modality);
        ds.Set(DicomTags.Manufacturer, "Kaapana Test");
        ds.Set(DicomTags.ReferringPhysicianName, "Doe^Jane");
        ds.Set(DicomTags.StudyDescription, "Generated study");
        ds.Set(DicomTags.SeriesDescription, s.SeriesDescription ?? $"{s.Modality} series {s.SeriesNumber}");
        ds.Set(DicomTags.ManufacturerModelName, "Synth 1");
        ds.Set(DicomTags.PatientName, s.PatientName);
        ds.Set(DicomTags.PatientID, s.PatientID);
        ds.Set(DicomTags.PatientBirthDate, "19700101");
        ds.Set(DicomTags.PatientSex, "O");
        ds.Set(DicomTags.BodyPartExamined, "CHEST");
        ds.Set(DicomTags.SliceThickness, "1.5");
        ds.Set(DicomTags.ProtocolName, s.Extra ?? "Thorax routine");
        ds.Set(DicomTags.StudyInstanceUID, s.StudyUid);
        ds.Set(DicomTags.SeriesInstanceUID, s.SeriesUid);
        ds.Set(DicomTags.StudyID, "1");
        ds.Set(DicomTags.SeriesNumber, s.SeriesNumber.ToString(System.Globalization.CultureInfo.InvariantCulture));
        ds.Set(DicomTags.InstanceNumber, s.InstanceNumber.ToString(System.Globalization.CultureInfo.InvariantCulture));
        ds.Set(DicomTags.ImagePositionPatient, "0", "0", (s.InstanceNumber * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture));
        ds.Set<ushort>(DicomTags.SamplesPerPixel, 1);
        ds.Set(DicomTags.PhotometricInterpretation, "MONOCHROME2");
        ds.Set<ushort>(DicomTags.Rows, (ushort)s.Size);
        ds.Set<ushort>(DicomTags.Columns, (ushort)s.Size);
        ds.Set<ushort>(DicomTags.BitsAllocated, 16);
        ds.Set<ushort>(DicomTags.BitsStored, 12);
        ds.Set<ushort>(DicomTags.HighBit, 11);
        ds.Set(DicomTags.PixelRepresentation, DicomVR.US, (ushort)0);
        var pixels = new byte[s.Size * s.Size * 2];
        new Random(s.SopUid.GetHashCode(StringComparison.Ordinal)).NextBytes(pixels);
        ds.SetBytes(DicomTags.PixelData, DicomVR.OW, pixels);
        return ds;
    }

    public static byte[] Create(Spec s) => ToBytes(CreateDataset(s));

    public static byte[] ToBytes(DicomDataset ds, DicomTransferSyntax? syntax = null)
    {
        using var ms = new MemoryStream();
        new DicomFile(ds, syntax).Save(ms);
        return ms.ToArray();
    }

    /// <summary>One instance in a new patient, study and series.</summary>
    public static byte[] Single(out string sopUid, string? seriesUid = null, string? studyUid = null, int size = 16)
    {
        sopUid = NewUid();
        return Create(new Spec("P-" + sopUid[^6..], "Single^Test", studyUid ?? NewUid(), seriesUid ?? NewUid(), sopUid, Size: size));
    }
}
