using System.Globalization;
using System.Text.Json.Nodes;
using Kaapana.Dicom;
using Kaapana.Tests.Archive;

namespace Kaapana.Tests.Workflows.Algorithms;

/// <summary>How a synthetic series stores its Hounsfield values, so the algorithms' Modality LUT stage is exercised three ways.</summary>
/// <param name="Signed">Pixel Representation 1.</param>
public sealed record CtStorage(int BitsStored, bool Signed, double Slope, double Intercept)
{
    /// <summary>The common scanner layout: 12 of 16 bits, unsigned, HU = stored - 1024.</summary>
    public static readonly CtStorage Unsigned12 = new(12, false, 1, -1024);

    public static readonly CtStorage Signed16 = new(16, true, 1, 0);

    /// <summary>Slope 0.5: stored = 2 × (HU + 1024).</summary>
    public static readonly CtStorage HalfSlope = new(16, false, 0.5, -1024);

    public int Stored(int hu) => (int)Math.Round((hu - Intercept) / Slope);
}

/// <summary>
/// One synthetic CT series with known content: air (-1000 HU) holding a sphere of soft tissue (100 HU), a smaller sphere of
/// bone (400 HU) and a ramp (from -300 HU in steps of 25 along x), plus deterministic noise (±20 HU, none on the ramp). The Hounsfield
/// values are kept here per voxel (slice-major in z order, row-major), so the tests compute what the algorithms must
/// report from them, independently of the algorithms' code.
/// </summary>
public sealed class CtPhantomSeries
{
    public required string StudyUid { get; init; }
    public required string SeriesUid { get; init; }
    public required string FrameOfReferenceUid { get; init; }
    public required int Rows { get; init; }
    public required int Columns { get; init; }
    public required int Slices { get; init; }

    /// <summary>Row spacing, column spacing (mm).</summary>
    public required double[] PixelSpacing { get; init; }

    public required double SliceSpacing { get; init; }
    public required CtStorage Storage { get; init; }

    /// <summary>Instance numbers run against z (the files' order is not the volume's).</summary>
    public bool ReverseInstanceNumbers { get; init; }

    /// <summary>HU per voxel, slice-major in increasing z.</summary>
    public required int[] Hu { get; init; }

    /// <summary>SOP Instance UID per slice, in increasing z.</summary>
    public required string[] SopUids { get; init; }

    public int SliceLength => Rows * Columns;
    public double VoxelVolumeMm3 => PixelSpacing[0] * PixelSpacing[1] * SliceSpacing;

    public static CtPhantomSeries Create(string studyUid, int rows, int columns, int slices, double[] pixelSpacing, double sliceSpacing,
        CtStorage storage, int seed, bool reverseInstanceNumbers = false)
    {
        var hu = new int[rows * columns * slices];
        var noise = new Random(seed);
        // Sphere centres and radii in voxels (the phantom is defined on the grid, so counts are exact).
        double cz = slices / 2.0, cy = rows / 2.0, cx = columns / 2.0, r = Math.Min(Math.Min(rows, columns) / 4.0, slices / 2.5);
        double bz = slices / 2.0, by = rows * 0.2, bx = columns * 0.2, br = Math.Max(1.5, r / 3);
        for (int z = 0; z < slices; z++)
            for (int y = 0; y < rows; y++)
                for (int x = 0; x < columns; x++)
                {
                    int value;
                    if (y >= rows * 3 / 4 && z >= 1 && z < slices - 1)
                        value = -300 + 25 * x; // the ramp: -300, -275, ... so the tests' bounds fall exactly on voxel values
                    else if (Sq(z + 0.5 - cz) + Sq(y + 0.5 - cy) + Sq(x + 0.5 - cx) <= r * r)
                        value = 100 + noise.Next(-20, 21);
                    else if (Sq(z + 0.5 - bz) + Sq(y + 0.5 - by) + Sq(x + 0.5 - bx) <= br * br)
                        value = 400 + noise.Next(-20, 21);
                    else
                        value = -1000 + noise.Next(-20, 21);
                    hu[(z * rows + y) * columns + x] = value;
                }
        return new CtPhantomSeries
        {
            StudyUid = studyUid, SeriesUid = TestInstances.NewUid(), FrameOfReferenceUid = TestInstances.NewUid(),
            Rows = rows, Columns = columns, Slices = slices, PixelSpacing = pixelSpacing, SliceSpacing = sliceSpacing,
            Storage = storage, ReverseInstanceNumbers = reverseInstanceNumbers, Hu = hu,
            SopUids = Enumerable.Range(0, slices).Select(_ => TestInstances.NewUid()).ToArray(),
        };
    }

    private static double Sq(double v) => v * v;

    /// <summary>Slice <paramref name="z"/> as a CT Image Storage instance.</summary>
    public DicomDataset Instance(int z, int seriesNumber)
    {
        var ds = TestInstances.CreateDataset(new TestInstances.Spec("PHANTOM-1", "Phantom^Ct", StudyUid, SeriesUid, SopUids[z],
            InstanceNumber: ReverseInstanceNumbers ? Slices - z : z + 1, Size: Rows, SeriesNumber: seriesNumber,
            SeriesDescription: $"Phantom {seriesNumber}"));
        string F(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
        ds.Set<ushort>(DicomTags.Columns, (ushort)Columns);
        ds.Set(DicomTags.FrameOfReferenceUID, FrameOfReferenceUid);
        ds.Set(DicomTags.PositionReferenceIndicator, "");
        ds.Set(DicomTags.ImageType, "ORIGINAL", "PRIMARY", "AXIAL");
        ds.Set(DicomTags.ImageOrientationPatient, "1", "0", "0", "0", "1", "0");
        ds.Set(DicomTags.ImagePositionPatient, "-20", "-25.5", F(-40 + z * SliceSpacing));
        ds.Set(DicomTags.SliceLocation, F(-40 + z * SliceSpacing));
        ds.Set(DicomTags.PixelSpacing, F(PixelSpacing[0]), F(PixelSpacing[1]));
        ds.Set(DicomTags.SliceThickness, F(SliceSpacing));
        ds.Set(DicomTags.KVP, "120");
        ds.Set(DicomTags.RescaleIntercept, F(Storage.Intercept));
        ds.Set(DicomTags.RescaleSlope, F(Storage.Slope));
        ds.Set(DicomTags.RescaleType, "HU");
        ds.Set<ushort>(DicomTags.BitsStored, (ushort)Storage.BitsStored);
        ds.Set<ushort>(DicomTags.HighBit, (ushort)(Storage.BitsStored - 1));
        ds.Set(DicomTags.PixelRepresentation, DicomVR.US, (ushort)(Storage.Signed ? 1 : 0));
        var pixels = new byte[SliceLength * 2];
        for (int i = 0; i < SliceLength; i++)
        {
            int stored = Storage.Stored(Hu[z * SliceLength + i]);
            if (Storage.Signed ? stored is < short.MinValue or > short.MaxValue : stored < 0 || stored >= 1 << Storage.BitsStored)
                throw new InvalidOperationException($"HU {Hu[z * SliceLength + i]} does not fit the storage {Storage}");
            pixels[2 * i] = (byte)stored;
            pixels[2 * i + 1] = (byte)(stored >> 8);
        }
        ds.SetBytes(DicomTags.PixelData, DicomVR.OW, pixels);
        return ds;
    }

    /// <summary>Voxels whose HU lies within [lower, upper] (1) or not (0), in the volume's order.</summary>
    public byte[] ExpectedMask(double lower, double upper) => Hu.Select(v => v >= lower && v <= upper ? (byte)1 : (byte)0).ToArray();
}

/// <summary>A staged <c>/input</c> in the engine's layout (Kaapana.Core/Workflows/README.md): series folders, manifest.json, params.json.</summary>
public static class CtPhantomInput
{
    public static void Stage(string inputDir, IReadOnlyList<CtPhantomSeries> series, JsonObject parameters, long runId = 1)
    {
        var nodes = new JsonArray();
        for (int s = 0; s < series.Count; s++)
        {
            var one = series[s];
            var folder = $"series/{one.SeriesUid}";
            Directory.CreateDirectory(Path.Combine(inputDir, folder));
            var instances = new JsonArray();
            // Written in an order that is neither z nor instance number.
            foreach (var z in Enumerable.Range(0, one.Slices).OrderBy(z => (z * 7919) % one.Slices))
            {
                var ds = one.Instance(z, s + 1);
                File.WriteAllBytes(Path.Combine(inputDir, folder, one.SopUids[z] + ".dcm"), TestInstances.ToBytes(ds));
                instances.Add(new JsonObject { ["sopInstanceUID"] = one.SopUids[z], ["sopClassUID"] = TestInstances.CTImageStorage, ["file"] = $"{folder}/{one.SopUids[z]}.dcm" });
            }
            nodes.Add(new JsonObject
            {
                ["studyInstanceUID"] = one.StudyUid, ["seriesInstanceUID"] = one.SeriesUid, ["patientID"] = "PHANTOM-1", ["modality"] = "CT",
                ["seriesNumber"] = s + 1, ["folder"] = folder, ["instances"] = instances,
            });
        }
        var manifest = new JsonObject { ["run"] = runId, ["item"] = 1, ["itemKey"] = "test", ["series"] = nodes };
        File.WriteAllText(Path.Combine(inputDir, "manifest.json"), manifest.ToJsonString());
        File.WriteAllText(Path.Combine(inputDir, "params.json"), parameters.ToJsonString());
    }

    /// <summary>Three series of one study, different sizes, spacings, storages and slice orders.</summary>
    public static IReadOnlyList<CtPhantomSeries> ThreeSeries()
    {
        var study = TestInstances.NewUid();
        return
        [
            CtPhantomSeries.Create(study, 40, 40, 10, [0.8, 0.8], 2.5, CtStorage.Unsigned12, seed: 1),
            CtPhantomSeries.Create(study, 32, 48, 12, [1.0, 0.9], 2.0, CtStorage.Signed16, seed: 2, reverseInstanceNumbers: true),
            CtPhantomSeries.Create(study, 36, 36, 8, [1.2, 1.2], 3.0, CtStorage.HalfSlope, seed: 3),
        ];
    }
}
