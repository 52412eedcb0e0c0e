// DicomParse benchmark: header parse (stop before pixel data) of N synthetic 512x512 CT files,
// Kaapana.Dicom vs pydicom (one Python process, timed inside) vs DCMTK dcmdump (per file and batched).
// Normally started by run.sh, which generates the files and builds this in Release:
//   dotnet DicomParse.dll --data DIR --scripts DIR [--reps 3] [--only ours]
//   dotnet DicomParse.dll --data DIR --breakdown      (where our header parse spends its time; no comparison)
//   dotnet DicomParse.dll --data DIR --loop SECONDS   (header passes only, to attach a profiler)
//
// Every measurement is warmed up (page cache, Python imports; our reader until the JIT reaches steady state, see
// Ours.WarmUp), then the timed passes run in rounds:
// round r times each measurement once (in an order rotated per round), so a burst of load on the (shared, 2-core)
// machine hits all of them alike.
// Reported: median wall time of the rounds as files/s, and CPU time (user+sys, children included) as a cross-check.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kaapana.Dicom;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

string? dataDir = null;
int reps = 3;
string only = "all";
bool breakdown = false;
double loopSeconds = 0;
string scriptDir = "";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--data": dataDir = args[++i]; break;
        case "--reps": reps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--only": only = args[++i]; break;
        case "--scripts": scriptDir = args[++i]; break;
        case "--breakdown": breakdown = true; break;
        case "--loop": loopSeconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
if (dataDir is null || !Directory.Exists(dataDir) || only is not ("all" or "ours"))
{
    Console.Error.WriteLine("usage: DicomParse --data DIR --scripts DIR [--reps N] [--only ours] [--breakdown] [--loop SECONDS]");
    return 2;
}

var files = Directory.GetFiles(dataDir, "*.dcm").Order(StringComparer.Ordinal).ToArray();
if (files.Length == 0) { Console.Error.WriteLine($"no .dcm files in {dataDir}"); return 2; }

if (breakdown)
{
    Breakdown.Run(files);
    return 0;
}
if (loopSeconds > 0)
{
    // For a profiler (perf with DOTNET_PerfMapEnabled=1): header passes only, for about that long after warm-up.
    var loop = new Ours("ours: header (StopBeforePixelData)", files, new DicomReadOptions { StopBeforePixelData = true });
    loop.WarmUp();
    Console.WriteLine($"looping {loopSeconds} s, pid {Environment.ProcessId}");
    var sw = Stopwatch.StartNew();
    int passes = 0;
    while (sw.Elapsed.TotalSeconds < loopSeconds) { loop.Pass(); passes++; }
    Console.WriteLine($"{passes * files.Length / sw.Elapsed.TotalSeconds:F0} files/s over {passes} passes");
    return 0;
}

var listFile = Path.Combine(Path.GetTempPath(), $"dicomparse-files-{Environment.ProcessId}.txt");
File.WriteAllLines(listFile, files);
var measurements = new List<Measurement>();
try
{
    var header = new DicomReadOptions { StopBeforePixelData = true };
    var lazy = new DicomReadOptions(); // default LargeValueThreshold (64 KiB): pixel data stays in the file
    var full = new DicomReadOptions { LargeValueThreshold = null };
    measurements.Add(new Ours("ours: header (StopBeforePixelData)", files, header));
    measurements.Add(new Ours("ours: full read, pixel data lazy (default 64 KiB threshold)", files, lazy) { Context = true });
    // Measured alone after the rounds: collecting the 500 MB each of its passes leaves behind slows down the next
    // measurement of ours by ~30% (whichever it is: freed heap is decommitted and faulted in again), so it must not precede one.
    var last = new Ours("ours: full read, pixel data in memory", files, full) { Context = true };
    if (only == "all")
    {
        measurements.Add(new Pydicom(Path.Combine(scriptDir, "pydicom_parse.py"), listFile, files.Length));
        measurements.Add(new Shell("dcmdump +sb 7fe0,0010, one process per file", files.Length, listFile,
            "while IFS= read -r f; do dcmdump -q +sb 7fe0,0010 \"$f\"; done < \"$1\" > /dev/null"));
        measurements.Add(new Shell("dcmdump +sb 7fe0,0010 +F, all files in one process", files.Length, listFile,
            "mapfile -t fs < \"$1\"; dcmdump -q +F +sb 7fe0,0010 \"${fs[@]}\" > /dev/null"));
        measurements.Add(new Shell("/bin/true, one process per file (spawn cost)", files.Length, listFile,
            "while IFS= read -r f; do /bin/true \"$f\"; done < \"$1\" > /dev/null") { Context = true });
    }

    Console.WriteLine($"DicomParse: {files.Length} files in {dataDir} ({new FileInfo(files[0]).Length:N0} bytes each)");
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, " +
                      $".NET {Environment.Version}, load average {LoadAverage()}; warm-up + {reps} rounds, median");
    foreach (var m in measurements) m.WarmUp();
    Ours.Check(files[0], header, lazy, full);
    for (int r = 0; r < reps; r++)
    {
        // Rotate the order each round, so that no measurement always follows the same one (e.g. 1,000 process starts).
        int k = r * measurements.Count / reps;
        foreach (var m in measurements.Skip(k).Concat(measurements.Take(k))) m.Timings.Add(m.Pass());
    }
    last.WarmUp();
    for (int r = 0; r < reps; r++) last.Timings.Add(last.Pass());
    measurements.Insert(2, last);
    Console.WriteLine($"load average at the end: {LoadAverage()}");
    if (measurements[0] is Ours { Cold: { } cold, WarmUpPasses: var wp })
    {
        Console.WriteLine($"first pass in a fresh process (files cached): ours header {files.Length / cold.Wall:F0} files/s ({cold.Wall:F3} s, JIT cold; " +
                          $"steady state after {wp} warm-up passes)");
        if (measurements.OfType<Pydicom>().FirstOrDefault() is { Cold: { } pyCold })
            Console.WriteLine($"  vs pydicom's first pass {files.Length / pyCold.Wall:F0} files/s ({pyCold.Wall:F3} s): {pyCold.Wall / cold.Wall:F2}x");
    }

    Console.WriteLine();
    Console.WriteLine($"{"measurement",-60} {"files/s",9} {"ms/file",8} {"CPU ms/file",11}   wall per round (s)");
    foreach (var m in measurements)
        Console.WriteLine($"{m.Name,-60} {m.FilesPerSecond,9:F0} {1000 / m.FilesPerSecond,8:F3} {m.MedianCpu * 1000 / m.Files,11:F3}   " +
                          string.Join(" ", m.Timings.Select(t => t.Wall.ToString("F3", CultureInfo.InvariantCulture))));

    var ours = measurements[0];
    Console.WriteLine();
    Console.WriteLine("ratio (ours header files/s ÷ theirs): of medians wall | per-round wall, min-max | of medians CPU");
    foreach (var other in measurements.Where(m => m is not Ours && !m.Context))
    {
        var perRound = ours.Timings.Zip(other.Timings, (a, b) => b.Wall / a.Wall).Order().ToArray();
        Console.WriteLine($"  vs {other.Name,-56} {ours.FilesPerSecond / other.FilesPerSecond,7:F2}x | {perRound[0],6:F2}-{perRound[^1]:F2}x | {other.MedianCpu / ours.MedianCpu,7:F2}x");
    }
    if (measurements.OfType<Pydicom>().FirstOrDefault() is { } py)
    {
        double ratio = ours.FilesPerSecond / py.FilesPerSecond;
        Console.WriteLine($"target ours >= 10x pydicom: {(ratio >= 10 ? "MET" : "NOT MET")} ({ratio:F2}x wall, {py.MedianCpu / ours.MedianCpu:F2}x CPU)");
    }
    return 0;
}
finally
{
    foreach (var m in measurements) (m as IDisposable)?.Dispose();
    File.Delete(listFile);
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

readonly record struct Timing(double Wall, double Cpu);

abstract class Measurement(string name, int files)
{
    public string Name { get; protected set; } = name;
    public int Files { get; } = files;
    /// <summary>Shown for context; not one of the comparisons the ratios are about.</summary>
    public bool Context { get; init; }
    public List<Timing> Timings { get; } = [];
    public abstract Timing Pass();
    /// <summary>The untimed first pass: files already cached, but for us the JIT cold and for pydicom its lazy imports not yet done.</summary>
    public Timing? Cold { get; protected set; }
    /// <summary>Untimed: brings the files into the page cache (and, for us, the JIT to steady state).</summary>
    public virtual void WarmUp() => Cold = Pass();
    public double MedianWall => Median(Timings.Select(t => t.Wall));
    public double MedianCpu => Median(Timings.Select(t => t.Cpu));
    public double FilesPerSecond => Files / MedianWall;
    private static double Median(IEnumerable<double> v) { var a = v.Order().ToArray(); return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2; }
}

sealed class Ours(string name, string[] files, DicomReadOptions options) : Measurement(name, files.Length)
{
    private double? _checksum;
    public static double? HeaderChecksum { get; private set; }

    public int WarmUpPasses { get; private set; }

    /// <summary>
    /// Tiered compilation with PGO needs a few thousand files before the hot paths run optimised code (one pass of
    /// 1,000 files is not enough: the first passes take 2-8x the steady-state time), so warm up for at least 8 passes and 1.5 s.
    /// </summary>
    public override void WarmUp()
    {
        Cold = Pass();
        var sw = Stopwatch.StartNew();
        WarmUpPasses = 1;
        while (WarmUpPasses < 8 || (sw.Elapsed.TotalSeconds < 1.5 && WarmUpPasses < 50))
        {
            Pass();
            WarmUpPasses++;
        }
    }

    /// <summary>The header values both sides read per file, summed as pydicom_parse.py sums them, so the checksums must match.</summary>
    public static double ReadValues(DicomDataset ds)
    {
        double acc = 0;
        acc += ds.GetString(DicomTags.PatientID).Length + ds.GetString(DicomTags.StudyInstanceUID).Length
             + ds.GetString(DicomTags.SeriesInstanceUID).Length + ds.GetString(DicomTags.SOPInstanceUID).Length;
        acc += ds.Get<int>(DicomTags.Rows) + ds.Get<int>(DicomTags.Columns) + ds.Get<int>(DicomTags.InstanceNumber)
             + ds.Get<double>(DicomTags.ImagePositionPatient, 2);
        return acc;
    }

    public override Timing Pass()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        double acc = 0;
        foreach (var f in files)
        {
            var file = DicomFile.Open(f, options);
            acc += ReadValues(file.Dataset);
        }
        var wall = sw.Elapsed.TotalSeconds;
        self.Refresh();
        var cpuSeconds = (self.TotalProcessorTime - cpu).TotalSeconds;
        if (_checksum is { } c && c != acc) throw new InvalidOperationException("checksum changed between passes");
        _checksum = acc;
        HeaderChecksum ??= acc;
        return new Timing(wall, cpuSeconds);
    }

    /// <summary>Each mode reads what it claims to (a benchmark of the wrong thing is worse than none).</summary>
    public static void Check(string path, DicomReadOptions header, DicomReadOptions lazy, DicomReadOptions full)
    {
        var h = DicomFile.Open(path, header);
        if (!h.IsPartial || h.Dataset.Contains(DicomTags.PixelData)) throw new InvalidOperationException("header read did not stop before pixel data");
        var l = DicomFile.Open(path, lazy);
        if (l.Dataset[DicomTags.PixelData] is not DicomValueElement { Buffer.IsInMemory: false })
            throw new InvalidOperationException("lazy read loaded pixel data");
        var m = DicomFile.Open(path, full);
        if (m.Dataset[DicomTags.PixelData] is not DicomValueElement { Buffer.IsInMemory: true, Length: 512 * 512 * 2 })
            throw new InvalidOperationException("full read did not load pixel data");
        int nested = Count(h.Dataset) - h.Dataset.Count;
        Console.WriteLine($"check {Path.GetFileName(path)}: meta {h.FileMetaInfo.Count} elements, data set {h.Dataset.Count} top-level + {nested} nested elements " +
                          "before pixel data; lazy read leaves pixel data in the file, full read holds it in memory");
    }

    private static int Count(DicomDataset ds) => ds.Sum(e => 1 + (e is DicomSequence sq ? sq.Items.Sum(Count) : 0));
}

/// <summary>pydicom in one long-lived /usr/bin/python3 process; passes are timed inside Python (wall and process CPU).</summary>
sealed class Pydicom : Measurement, IDisposable
{
    private readonly Process _p;

    public Pydicom(string script, string listFile, int files) : base("pydicom", files)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(listFile);
        _p = Process.Start(psi)!;
        using var hello = JsonDocument.Parse(_p.StandardOutput.ReadLine() ?? throw new InvalidOperationException("pydicom_parse.py did not start"));
        var h = hello.RootElement;
        Name = $"pydicom {h.GetProperty("pydicom").GetString()} (Python {h.GetProperty("python").GetString()}) dcmread(stop_before_pixels)";
    }

    public override Timing Pass()
    {
        _p.StandardInput.WriteLine("pass");
        _p.StandardInput.Flush();
        var line = _p.StandardOutput.ReadLine() ?? throw new InvalidOperationException("pydicom_parse.py ended early");
        using var json = JsonDocument.Parse(line);
        var r = json.RootElement;
        var checksum = r.GetProperty("checksum").GetDouble();
        if (Ours.HeaderChecksum is { } c && c != checksum)
            throw new InvalidOperationException($"pydicom read different header values (checksum {checksum} vs ours {c})");
        return new Timing(r.GetProperty("wall").GetDouble(), r.GetProperty("cpu").GetDouble());
    }

    public void Dispose()
    {
        _p.StandardInput.Close();
        _p.WaitForExit();
        _p.Dispose();
    }
}

/// <summary>A bash snippet ($1 = the file list) timed from outside: wall time, and CPU time of all its children.</summary>
sealed class Shell(string name, int files, string listFile, string script) : Measurement(name, files)
{
    public override Timing Pass()
    {
        var timesFile = Path.GetTempFileName();
        try
        {
            var psi = new ProcessStartInfo("/bin/bash") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            // `times` line 2: user and system time of the shell's (waited-for) children.
            psi.ArgumentList.Add($"set -e; {script}; times > \"$2\"");
            psi.ArgumentList.Add("bash");
            psi.ArgumentList.Add(listFile);
            psi.ArgumentList.Add(timesFile);
            var sw = Stopwatch.StartNew();
            using (var p = Process.Start(psi)!)
            {
                p.WaitForExit();
                if (p.ExitCode != 0) throw new InvalidOperationException($"'{script}' failed ({p.ExitCode})");
            }
            var wall = sw.Elapsed.TotalSeconds;
            var children = File.ReadAllLines(timesFile)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return new Timing(wall, children.Sum(ParseBashTime));
        }
        finally
        {
            File.Delete(timesFile);
        }
    }

    private static double ParseBashTime(string s) // e.g. 0m1.234s
    {
        int m = s.IndexOf('m');
        return int.Parse(s[..m], CultureInfo.InvariantCulture) * 60 + double.Parse(s[(m + 1)..^1], CultureInfo.InvariantCulture);
    }
}
