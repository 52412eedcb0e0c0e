using System.Text;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Tests.Dicom.Conformance;

namespace Kaapana.Tests.Dicom.Imaging;

/// <summary>
/// Reference tools for the imaging tests: DCMTK (dcmtk), GDCM's gdcmconv (libgdcm-tools) and dciodvfy (dicom3tools).
/// A missing tool is a failure that names its Debian package, never a skip.
/// </summary>
public static class ImagingTools
{
    public static readonly IReadOnlyDictionary<string, string> PackageOf = new Dictionary<string, string>
    {
        ["gdcmconv"] = "libgdcm-tools",
        ["dciodvfy"] = "dicom3tools",
    };

    /// <summary>Runs a tool (through <see cref="ExternalTools.Run"/>) after checking it is installed.</summary>
    public static ExternalTools.Result Run(string tool, params string[] args)
    {
        if (PackageOf.TryGetValue(tool, out var package) && !OnPath(tool))
            throw new InvalidOperationException($"'{tool}' is not installed: install the Debian package {package} (apt-get install {package}).");
        return ExternalTools.Run(tool, args);
    }

    /// <summary>Runs a tool and fails the test with its output when it does not exit 0.</summary>
    public static ExternalTools.Result RunOk(string tool, params string[] args)
    {
        var r = Run(tool, args);
        Assert.True(r.ExitCode == 0, $"{tool} {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr}{r.Text}");
        return r;
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(Path.PathSeparator).Append("/usr/bin")
        .Any(d => File.Exists(Path.Combine(d, tool)));

    /// <summary>A scratch directory for one test, removed on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("kaapana-imaging-").FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>An 8-bit binary PGM (P5) or PPM (P6) as dcm2pnm writes with +op.</summary>
    public sealed record Pnm(int Width, int Height, bool IsColor, byte[] Pixels);

    public static Pnm ReadPnm(byte[] b)
    {
        int pos = 0;
        string Token()
        {
            while (char.IsWhiteSpace((char)b[pos])) pos++;
            if (b[pos] == '#') { while (b[pos] != '\n') pos++; return Token(); }
            int s = pos;
            while (!char.IsWhiteSpace((char)b[pos])) pos++;
            return Encoding.ASCII.GetString(b, s, pos - s);
        }
        var magic = Token();
        int w = int.Parse(Token()), h = int.Parse(Token());
        var max = int.Parse(Token());
        Assert.Equal(255, max);
        pos++;
        return new Pnm(w, h, magic == "P6", b[pos..]);
    }

    /// <summary>dcmj2pnm (dcm2pnm with JPEG support) to an 8-bit PNM.</summary>
    public static Pnm Dcm2Pnm(string dicomPath, params string[] options)
    {
        using var dir = new TempDir();
        var output = dir.File("out.pnm");
        RunOk("dcmj2pnm", [.. options, "+op", dicomPath, output]);
        return ReadPnm(System.IO.File.ReadAllBytes(output));
    }

    public static string SampleFile(string name) => System.IO.Path.Combine(ExternalTools.RequireTestFiles(), name);
}

/// <summary>Synthetic CT series made with our own data set API.</summary>
public static class SyntheticCt
{
    /// <summary>
    /// <paramref name="slices"/> axial CT slices of <paramref name="size"/>² 16-bit signed pixels (rescale -1024), 2.5 mm apart,
    /// with a bright disc whose radius changes with z. Returned in reverse position order (so consumers must sort).
    /// </summary>
    public static List<DicomFile> Series(int slices, int size, string? studyUid = null)
    {
        string study = studyUid ?? DicomUidGenerator.New(), series = DicomUidGenerator.New(), frameOfReference = DicomUidGenerator.New();
        var files = new List<DicomFile>();
        for (int z = 0; z < slices; z++)
        {
            var ds = Header(study, series, frameOfReference, z, size);
            var pixels = new byte[size * size * 2];
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    double dx = x - size / 2.0, dy = y - size / 2.0, r = Math.Sqrt(dx * dx + dy * dy);
                    // Air outside the body, soft tissue inside, a denser disc and a gradient so every value range appears.
                    int hu = r > size * 0.45 ? -1000 : r < size * (0.1 + 0.01 * z) ? 700 : 40 + (x * 7 + y * 3) % 200 - 100;
                    short stored = (short)(hu + 1024);
                    pixels[(y * size + x) * 2] = (byte)stored;
                    pixels[(y * size + x) * 2 + 1] = (byte)(stored >> 8);
                }
            ds.SetBytes(DicomTags.PixelData, DicomVR.OW, pixels);
            files.Add(new DicomFile(ds));
        }
        files.Reverse();
        return files;
    }

    public static DicomDataset Header(string study, string series, string frameOfReference, int z, int size)
    {
        var ds = new DicomDataset();
        ds.Set(DicomTags.SOPClassUID, DicomUids.CTImageStorage);
        ds.Set(DicomTags.SOPInstanceUID, DicomUidGenerator.New());
        ds.Set(DicomTags.StudyDate, "20240102");
        ds.Set(DicomTags.StudyTime, "101500");
        ds.SetEmpty(DicomTags.AccessionNumber);
        ds.Set(DicomTags.Modality, "CT");
        ds.Set(DicomTags.Manufacturer, "Kaapana Synthetic");
        ds.SetEmpty(DicomTags.ReferringPhysicianName);
        ds.Set(DicomTags.PatientName, "Synthetic^Phantom");
        ds.Set(DicomTags.PatientID, "PHANTOM01");
        ds.SetEmpty(DicomTags.PatientBirthDate);
        ds.Set(DicomTags.PatientSex, "O");
        ds.Set(DicomTags.KVP, "120");
        ds.Set(DicomTags.SliceThickness, "2.5");
        ds.Set(DicomTags.StudyInstanceUID, study);
        ds.Set(DicomTags.SeriesInstanceUID, series);
        ds.Set(DicomTags.StudyID, "1");
        ds.Set(DicomTags.SeriesNumber, "2");
        ds.Set(DicomTags.InstanceNumber, (z + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        ds.Set(DicomTags.ImagePositionPatient, -size / 2.0, -size / 2.0, z * 2.5);
        ds.Set(DicomTags.ImageOrientationPatient, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0);
        ds.Set(DicomTags.FrameOfReferenceUID, frameOfReference);
        ds.SetEmpty(DicomTags.PositionReferenceIndicator);
        ds.Set(DicomTags.ImageType, "ORIGINAL", "PRIMARY", "AXIAL");
        new PixelDataInfo
        {
            Rows = size, Columns = size, BitsAllocated = 16, BitsStored = 16, HighBit = 15, PixelRepresentation = 1,
            PhotometricInterpretation = PhotometricInterpretation.Monochrome2,
        }.ApplyTo(ds);
        ds.Set(DicomTags.PixelSpacing, 0.7, 0.7);
        ds.Set(DicomTags.RescaleIntercept, "-1024");
        ds.Set(DicomTags.RescaleSlope, "1");
        ds.Set(DicomTags.RescaleType, "HU");
        ds.Set(DicomTags.WindowCenter, "40");
        ds.Set(DicomTags.WindowWidth, "400");
        return ds;
    }
}
