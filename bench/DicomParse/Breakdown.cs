using System.Diagnostics;
using Kaapana.Dicom;

/// <summary>
/// Where the header parse spends its time, phase by phase: µs per file (median of 5 passes after 8 warm-up passes)
/// and bytes allocated per file. The file system floor, FileStream, parsing from memory, reading the values,
/// and the whole DicomFile.Open.
/// </summary>
static class Breakdown
{
    public static void Run(string[] files)
    {
        var header = new DicomReadOptions { StopBeforePixelData = true };
        // The first 16 KiB of each file (the header and the start of the pixel data), for the parse-only phase.
        var prefixes = files.Select(f =>
        {
            var all = File.ReadAllBytes(f);
            return all.AsSpan(0, Math.Min(all.Length, 16 * 1024)).ToArray();
        }).ToArray();
        var parsed = prefixes.Select(p => DicomFile.Read(new MemoryStream(p), header).Dataset).ToArray();
        var buf = new byte[16 * 1024];

        Console.WriteLine($"breakdown over {files.Length} files (steady state)");
        Console.WriteLine($"{"µs/file",10} {"bytes/file",12}  phase");
        Phase("open + read 16 KiB + close (SafeFileHandle, RandomAccess): the file system floor", files.Length, () => Timed(() =>
        {
            foreach (var f in files)
            {
                using var h = File.OpenHandle(f, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.None);
                RandomAccess.Read(h, buf, 0);
            }
        }));
        Phase("open + Length + read 16 KiB + close (FileStream as DicomFile.Open makes it)", files.Length, () => Timed(() =>
        {
            foreach (var f in files)
            {
                using var fs = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                _ = fs.Length;
                fs.ReadExactly(buf);
            }
        }));
        Phase("parse only: DicomFile.Read(MemoryStream over the first 16 KiB)", files.Length, () => Timed(() =>
        {
            foreach (var p in prefixes) DicomFile.Read(new MemoryStream(p), header);
        }));
        Phase("read the 8 header values, first access (Specific Character Set parsed)", files.Length, () =>
        {
            // Fresh data sets each pass, so the character set cached in a data set does not hide its cost.
            var fresh = prefixes.Select(p => DicomFile.Read(new MemoryStream(p), header).Dataset).ToArray();
            return Timed(() => { foreach (var ds in fresh) Ours.ReadValues(ds); });
        });
        Phase("read the 8 header values again (character set cached)", files.Length, () => Timed(() =>
        {
            foreach (var ds in parsed) Ours.ReadValues(ds);
        }));
        Phase("whole: DicomFile.Open(path, StopBeforePixelData) + the 8 values", files.Length, () => Timed(() =>
        {
            foreach (var f in files) Ours.ReadValues(DicomFile.Open(f, header).Dataset);
        }));
    }

    private static (double Seconds, long Allocated) Timed(Action pass)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        pass();
        return (sw.Elapsed.TotalSeconds, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void Phase(string name, int files, Func<(double Seconds, long Allocated)> pass)
    {
        for (int i = 0; i < 8; i++) pass(); // JIT to steady state (tiered PGO), as in Ours.WarmUp
        var t = new double[5];
        long allocated = 0;
        for (int i = 0; i < t.Length; i++)
        {
            GC.Collect();
            (t[i], allocated) = pass();
        }
        Array.Sort(t);
        Console.WriteLine($"{t[2] * 1e6 / files,10:F2} {allocated / files,12:N0}  {name}");
    }
}
