using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Archive.Demo;

/// <summary>How far "Load demo data" has got.</summary>
public sealed record DemoDataProgress(int Done, int Total);

/// <summary>What one load did: instances newly stored, already present (a second load), and rejected or failed (with the first reason).</summary>
public sealed record DemoDataResult(int Stored, int AlreadyPresent, int Failed, string? FirstError, IReadOnlyList<string> SeriesInstanceUids);

/// <summary>
/// A small synthetic CT set for a newcomer's first minute: <see cref="Patients"/> patients with one thorax study each, two
/// series (soft tissue and lung kernel) of <see cref="Slices"/> axial 128×128 16-bit slices showing a body outline, lungs,
/// heart, spine and table. Every UID and byte is derived from fixed names, so loading twice stores nothing new: the second
/// load's instances are duplicates with the same content, which the ingest pipeline answers as idempotent successes.
/// Instances go through <see cref="IIngestService"/> like any upload.
/// </summary>
public sealed class DemoDataGenerator(IIngestService ingest, ILogger<DemoDataGenerator> logger)
{
    public const int Patients = 3;
    public const int SeriesPerStudy = 2;
    public const int Slices = 24;
    public const int Size = 128;
    public const int InstanceCount = Patients * SeriesPerStudy * Slices;

    private const double PixelSpacing = 3.0, SliceSpacing = 5.0;
    private static readonly (string Id, string Name, string BirthDate, string Sex, string StudyDate, double BodyScale)[] People =
    [
        ("DEMO-001", "Demo^Alice", "19620314", "F", "20240115", 0.92),
        ("DEMO-002", "Demo^Bob", "19750702", "M", "20240212", 1.0),
        ("DEMO-003", "Demo^Carol", "19881125", "F", "20240308", 0.86),
    ];
    private static readonly (string Description, string Kernel, int Number, string Center, string Width)[] SeriesKinds =
    [
        ("Thorax 5mm soft tissue", "STANDARD", 2, "40", "400"),
        ("Thorax 5mm lung", "LUNG", 3, "-600", "1500"),
    ];

    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>Generates and ingests the set into <paramref name="project"/> (null: the ingest's default). Concurrent calls run one after the other.</summary>
    public async Task<DemoDataResult> LoadAsync(string? project, IProgress<DemoDataProgress>? progress = null, CancellationToken ct = default)
    {
        await _one.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var context = new IngestContext { Source = IngestSource.Upload, UploadUser = "demo data", Project = project };
            int stored = 0, present = 0, failed = 0, done = 0;
            string? firstError = null;
            var series = new List<string>();
            using var buffer = new MemoryStream(Size * Size * 2 + 4096);
            foreach (var file in Generate())
            {
                ct.ThrowIfCancellationRequested();
                var uid = file.Dataset.GetString(DicomTags.SeriesInstanceUID);
                if (!series.Contains(uid)) series.Add(uid);
                buffer.SetLength(0);
                file.Save(buffer);
                buffer.Position = 0;
                var result = await ingest.IngestAsync(buffer, context, ct).ConfigureAwait(false);
                switch (result.Status)
                {
                    case IngestStatus.Stored: stored++; break;
                    case IngestStatus.Duplicate: present++; break;
                    default:
                        failed++;
                        firstError ??= result.Reason ?? result.Status.ToString();
                        break;
                }
                progress?.Report(new DemoDataProgress(++done, InstanceCount));
            }
            logger.LogInformation("Demo data into {Project}: {Stored} stored, {Present} already present, {Failed} failed {Error}",
                project ?? "(default)", stored, present, failed, firstError);
            return new DemoDataResult(stored, present, failed, firstError, series);
        }
        finally
        {
            _one.Release();
        }
    }

    /// <summary>The demo instances, in patient, series, slice order; the same bytes every time.</summary>
    public static IEnumerable<DicomFile> Generate()
    {
        foreach (var person in People)
        {
            string study = Uid($"{person.Id}/study");
            string frameOfReference = Uid($"{person.Id}/frame");
            foreach (var kind in SeriesKinds)
            {
                string series = Uid($"{person.Id}/series/{kind.Number}");
                for (int z = 0; z < Slices; z++)
                {
                    var ds = Header(person, kind, study, series, frameOfReference, z);
                    ds.SetBytes(DicomTags.PixelData, DicomVR.OW, Pixels(z, person.BodyScale, kind.Kernel == "LUNG"));
                    yield return new DicomFile(ds);
                }
            }
        }
    }

    /// <summary>
    /// A 2.25 UID (PS3.5 B.2) from a name-based UUID: SHA-256 of a fixed prefix and the name, with the version and variant
    /// bits of RFC 9562's UUIDv8 set, so the same name always gives the same UID and no two names collide in practice.
    /// </summary>
    public static string Uid(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("kaapana-demo-data-v1/" + name), hash);
        var uuid = hash[..16];
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x80);
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80);
        return "2.25." + new BigInteger(uuid, isUnsigned: true, isBigEndian: true).ToString(CultureInfo.InvariantCulture);
    }

    private static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    private static DicomDataset Header((string Id, string Name, string BirthDate, string Sex, string StudyDate, double BodyScale) person,
        (string Description, string Kernel, int Number, string Center, string Width) kind, string study, string series, string frameOfReference, int z)
    {
        string instance = Uid($"{person.Id}/series/{kind.Number}/{z}");
        double sliceLocation = -z * SliceSpacing; // head first supine, cranio-caudal from the apex down
        var ds = new DicomDataset();
        ds.Set(DicomTags.SpecificCharacterSet, "ISO_IR 100");
        ds.Set(DicomTags.ImageType, "ORIGINAL", "PRIMARY", "AXIAL");
        ds.Set(DicomTags.SOPClassUID, DicomUids.CTImageStorage);
        ds.Set(DicomTags.SOPInstanceUID, instance);
        ds.Set(DicomTags.StudyDate, person.StudyDate);
        ds.Set(DicomTags.SeriesDate, person.StudyDate);
        ds.Set(DicomTags.AcquisitionDate, person.StudyDate);
        ds.Set(DicomTags.ContentDate, person.StudyDate);
        ds.Set(DicomTags.StudyTime, "091500");
        ds.Set(DicomTags.SeriesTime, "091800");
        ds.Set(DicomTags.AcquisitionTime, "091700");
        ds.Set(DicomTags.ContentTime, "091800");
        ds.Set(DicomTags.AccessionNumber, "ACC" + person.Id[^3..]);
        ds.Set(DicomTags.Modality, "CT");
        ds.Set(DicomTags.Manufacturer, "Kaapana Demo");
        ds.Set(DicomTags.InstitutionName, "Kaapana Demo Hospital");
        ds.SetEmpty(DicomTags.ReferringPhysicianName);
        ds.Set(DicomTags.StationName, "DEMOCT1");
        ds.Set(DicomTags.StudyDescription, "CT Thorax");
        ds.Set(DicomTags.SeriesDescription, kind.Description);
        ds.Set(DicomTags.ManufacturerModelName, "Synthetic Phantom");
        ds.Set(DicomTags.PatientName, person.Name);
        ds.Set(DicomTags.PatientID, person.Id);
        ds.Set(DicomTags.PatientBirthDate, person.BirthDate);
        ds.Set(DicomTags.PatientSex, person.Sex);
        ds.Set(DicomTags.BodyPartExamined, "CHEST");
        ds.Set(DicomTags.SliceThickness, F(SliceSpacing));
        ds.Set(DicomTags.KVP, "120");
        ds.Set(DicomTags.DataCollectionDiameter, "500");
        ds.Set(DicomTags.SoftwareVersions, "1");
        ds.Set(DicomTags.ReconstructionDiameter, F(PixelSpacing * Size));
        ds.Set(DicomTags.GantryDetectorTilt, "0");
        ds.Set(DicomTags.TableHeight, "150");
        ds.Set(DicomTags.RotationDirection, "CW");
        ds.Set(DicomTags.ExposureTime, "500");
        ds.Set(DicomTags.XRayTubeCurrent, "200");
        ds.Set(DicomTags.ConvolutionKernel, kind.Kernel);
        ds.Set(DicomTags.PatientPosition, "HFS");
        ds.Set(DicomTags.StudyInstanceUID, study);
        ds.Set(DicomTags.SeriesInstanceUID, series);
        ds.Set(DicomTags.StudyID, "1");
        ds.Set(DicomTags.SeriesNumber, kind.Number.ToString(CultureInfo.InvariantCulture));
        ds.Set(DicomTags.AcquisitionNumber, "1");
        ds.Set(DicomTags.InstanceNumber, (z + 1).ToString(CultureInfo.InvariantCulture));
        ds.Set(DicomTags.ImagePositionPatient, F(-PixelSpacing * Size / 2), F(-PixelSpacing * Size / 2), F(sliceLocation));
        ds.Set(DicomTags.ImageOrientationPatient, "1", "0", "0", "0", "1", "0");
        ds.Set(DicomTags.FrameOfReferenceUID, frameOfReference);
        ds.SetEmpty(DicomTags.PositionReferenceIndicator);
        ds.Set(DicomTags.SliceLocation, F(sliceLocation));
        ds.Set(DicomTags.SamplesPerPixel, (ushort)1);
        ds.Set(DicomTags.PhotometricInterpretation, PhotometricInterpretation.Monochrome2);
        ds.Set(DicomTags.Rows, (ushort)Size);
        ds.Set(DicomTags.Columns, (ushort)Size);
        ds.Set(DicomTags.PixelSpacing, F(PixelSpacing), F(PixelSpacing));
        ds.Set(DicomTags.BitsAllocated, (ushort)16);
        ds.Set(DicomTags.BitsStored, (ushort)12);
        ds.Set(DicomTags.HighBit, (ushort)11);
        ds.Set(DicomTags.PixelRepresentation, (ushort)0);
        ds.Set(DicomTags.WindowCenter, kind.Center);
        ds.Set(DicomTags.WindowWidth, kind.Width);
        ds.Set(DicomTags.RescaleIntercept, "-1024");
        ds.Set(DicomTags.RescaleSlope, "1");
        ds.Set(DicomTags.RescaleType, "HU");
        return ds;
    }

    /// <summary>
    /// One slice in stored values (HU + 1024, 12 bits): air, table, an elliptic body with a fat rim, two lungs that grow
    /// then shrink along z, a heart in the lower half, the spine, ribs. The lung kernel adds a fixed fine texture.
    /// </summary>
    private static byte[] Pixels(int z, double bodyScale, bool sharp)
    {
        var pixels = new byte[Size * Size * 2];
        double t = z / (double)(Slices - 1); // 0 at the apex, 1 at the base
        double lungScale = Math.Sin(Math.PI * (0.15 + 0.8 * t));
        double heart = t < 0.35 ? 0 : Math.Sin(Math.PI * (t - 0.35) / 0.65);
        double c = Size / 2.0, bodyA = 0.44 * Size * bodyScale, bodyB = 0.30 * Size * bodyScale;
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                double dx = x - c, dy = y - (c - 4);
                double body = (dx * dx) / (bodyA * bodyA) + (dy * dy) / (bodyB * bodyB);
                int hu;
                if (y > c + bodyB + 2 && y < c + bodyB + 6 && Math.Abs(dx) < 0.45 * Size) hu = 200; // table
                else if (body > 1) hu = -1000;
                else if (body > 0.82) hu = -100; // subcutaneous fat
                else
                {
                    hu = 40;
                    double ribs = Math.Abs(Math.Sin(Math.Atan2(dy, dx) * 9));
                    if (body > 0.7 && ribs > 0.85) hu = 600;
                    foreach (int side in new[] { -1, 1 })
                    {
                        double lx = (dx - side * 0.2 * Size * bodyScale) / (0.15 * Size * bodyScale * Math.Max(lungScale, 0.05));
                        double ly = (dy + 2) / (0.2 * Size * bodyScale * Math.Max(lungScale, 0.05));
                        if (lx * lx + ly * ly < 1) hu = -850;
                    }
                    double hx = (dx + 0.06 * Size) / (0.13 * Size * bodyScale * Math.Max(heart, 0.01)), hy = (dy + 0.03 * Size) / (0.11 * Size * bodyScale * Math.Max(heart, 0.01));
                    if (heart > 0 && hx * hx + hy * hy < 1) hu = 45;
                    double sx = dx / (0.06 * Size), sy = (dy - 0.2 * Size * bodyScale) / (0.06 * Size);
                    if (sx * sx + sy * sy < 1) hu = sx * sx + sy * sy < 0.4 ? 300 : 900; // vertebral body: cortex and marrow
                }
                if (sharp && hu > -1000) hu += ((x * 31 + y * 17 + z * 7) % 21) - 10;
                int stored = Math.Clamp(hu + 1024, 0, 4095);
                pixels[(y * Size + x) * 2] = (byte)stored;
                pixels[(y * Size + x) * 2 + 1] = (byte)(stored >> 8);
            }
        }
        return pixels;
    }
}
