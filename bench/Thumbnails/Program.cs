// Thumbnail throughput: Kaapana.Dicom (decode + window + scale + PNG) against DCMTK's dcmj2pnm on the same files.
// Usage: dotnet run -c Release --project bench/Thumbnails [-- COUNT]
using System.Diagnostics;
using System.Globalization;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Rendering;

int count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../out/Thumbnails"));
var nativeDir = Path.Combine(root, "native");
var jpegDir = Path.Combine(root, "jpegls1");
var outDir = Path.Combine(root, "png");
foreach (var d in new[] { nativeDir, jpegDir, outDir }) { if (Directory.Exists(d)) Directory.Delete(d, true); Directory.CreateDirectory(d); }

// 512² signed 16-bit CT slices made with our data set API; JPEG lossless SV1 copies made by DCMTK (dcmcjpeg +e1).
string study = DicomUidGenerator.New(), series = DicomUidGenerator.New(), frameOfReference = DicomUidGenerator.New();
var random = new Random(1);
for (int z = 0; z < count; z++)
{
    var ds = new DicomDataset();
    ds.Set(DicomTags.SOPClassUID, DicomUids.CTImageStorage);
    ds.Set(DicomTags.SOPInstanceUID, DicomUidGenerator.New());
    ds.Set(DicomTags.StudyInstanceUID, study);
    ds.Set(DicomTags.SeriesInstanceUID, series);
    ds.Set(DicomTags.FrameOfReferenceUID, frameOfReference);
    ds.Set(DicomTags.Modality, "CT");
    ds.Set(DicomTags.PatientName, "Bench^Thumbnail");
    ds.Set(DicomTags.InstanceNumber, (z + 1).ToString(CultureInfo.InvariantCulture));
    ds.Set(DicomTags.ImagePositionPatient, -180.0, -180.0, z * 1.25);
    ds.Set(DicomTags.ImageOrientationPatient, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0);
    ds.Set(DicomTags.PixelSpacing, 0.7, 0.7);
    new PixelDataInfo { Rows = 512, Columns = 512, BitsAllocated = 16, BitsStored = 16, HighBit = 15, PixelRepresentation = 1 }.ApplyTo(ds);
    ds.Set(DicomTags.RescaleIntercept, "-1024");
    ds.Set(DicomTags.RescaleSlope, "1");
    var pixels = new byte[512 * 512 * 2];
    for (int y = 0; y < 512; y++)
        for (int x = 0; x < 512; x++)
        {
            double dx = x - 256, dy = y - 256, r = Math.Sqrt(dx * dx + dy * dy);
            int hu = r > 230 ? -1000 + random.Next(20) : r < 40 + z % 30 ? 600 + random.Next(300) : 30 + random.Next(60) + (int)(20 * Math.Sin(x / 9.0) * Math.Cos(y / 13.0));
            short s = (short)(hu + 1024);
            pixels[(y * 512 + x) * 2] = (byte)s;
            pixels[(y * 512 + x) * 2 + 1] = (byte)(s >> 8);
        }
    ds.SetBytes(DicomTags.PixelData, DicomVR.OW, pixels);
    var path = Path.Combine(nativeDir, $"ct{z:D4}.dcm");
    new DicomFile(ds).Save(path);
    Run("dcmcjpeg", "+e1", path, Path.Combine(jpegDir, $"ct{z:D4}.dcm"));
}

Console.WriteLine($"Machine: {Environment.ProcessorCount} cores; {count} files of 512x512x16-bit CT per set; thumbnail 128x128 PNG, window C=40 W=400");
foreach (var (label, dir) in new[] { ("uncompressed", nativeDir), ("JPEG lossless SV1", jpegDir) })
{
    var files = Directory.GetFiles(dir, "*.dcm").Order().ToArray();
    var options = new ThumbnailOptions { MaxWidth = 128, MaxHeight = 128, Window = new VoiWindow(40, 400), PngZlibLevel = 1 };
    foreach (var f in files.Take(5)) SeriesThumbnail.CreateForInstance(f, options); // warm-up (JIT)
    var sw = Stopwatch.StartNew();
    foreach (var f in files) File.WriteAllBytes(Path.Combine(outDir, Path.GetFileNameWithoutExtension(f) + ".png"), SeriesThumbnail.CreateForInstance(f, options));
    double ours1 = files.Length / sw.Elapsed.TotalSeconds;
    sw.Restart();
    Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
        f => File.WriteAllBytes(Path.Combine(outDir, Path.GetFileNameWithoutExtension(f) + ".p.png"), SeriesThumbnail.CreateForInstance(f, options)));
    double oursN = files.Length / sw.Elapsed.TotalSeconds;

    // Full size too (no scaling), the "5 ms" fast path: render + PNG zlib 1.
    var full = new ThumbnailOptions { MaxWidth = 512, MaxHeight = 512, Window = new VoiWindow(40, 400), PngZlibLevel = 1 };
    sw.Restart();
    foreach (var f in files) SeriesThumbnail.CreateForInstance(f, full);
    double oursFull = files.Length / sw.Elapsed.TotalSeconds;

    // DCMTK: one dcmj2pnm process per thumbnail (how it is used), sequentially = one core.
    sw.Restart();
    foreach (var f in files) Run("dcmj2pnm", "+Ww", "40", "400", "+Sxv", "128", "+on", f, Path.Combine(outDir, Path.GetFileNameWithoutExtension(f) + ".dcmtk.png"));
    double dcmtk = files.Length / sw.Elapsed.TotalSeconds;
    sw.Restart();
    foreach (var f in files) Run("dcmj2pnm", "+Ww", "40", "400", "+on", f, Path.Combine(outDir, Path.GetFileNameWithoutExtension(f) + ".dcmtkfull.png"));
    double dcmtkFull = files.Length / sw.Elapsed.TotalSeconds;

    Console.WriteLine($"{label}: ours 1 thread {ours1:F0}/s, ours {Environment.ProcessorCount} threads {oursN:F0}/s, dcmj2pnm {dcmtk:F0}/s "
        + $"-> ratio per core {ours1 / dcmtk:F1}x (all cores {oursN / dcmtk:F1}x); full-size 512² PNG: ours {oursFull:F0}/s ({1000 / oursFull:F1} ms), dcmj2pnm {dcmtkFull:F0}/s, ratio {oursFull / dcmtkFull:F1}x");
}

static void Run(string tool, params string[] args)
{
    var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
    foreach (var a in args) psi.ArgumentList.Add(a);
    using var p = Process.Start(psi)!;
    p.StandardOutput.ReadToEnd();
    var err = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new Exception($"{tool} failed: {err}");
}
