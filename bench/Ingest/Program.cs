// Ingest benchmark: N generated 512x512 CT instances (16-bit, ~526 KB each) through IIngestService, composed exactly as
// the server composes it (AddKaapanaDefaults + AddKaapanaIndex + AddKaapanaArchive, hosted services running), on a real
// data folder. Prints instances/s in windows of --window instances starting at 0, 10k, 50k, ... indexed, then the
// throughput of --concurrency parallel ingesters. Instances of a window are generated before it is timed.
//
//   dotnet run -c Release --project bench/Ingest -- [--count 20000] [--window 1000] [--concurrency 8] [--concurrent-count 4000]
//        [--durability ProcessCrashSafe|PowerLossSafe] [--prefill 0] [--data DIR] [--keep]
//
// --prefill N: afterwards, fill the same archive up to N instances with small (16x16) ones in 100-instance series
// (8 ingesters; the index grows as with real data, the disk far less), measure a window of 512^2 CT there, then one on a
// fresh empty archive right after (same machine load), and print their ratio.
// The process first warms up (JIT tiers, dynamic PGO) on a throw-away archive, so window 0 is not a cold start.
using System.Diagnostics;
using System.Globalization;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Dicom;
using Kaapana.Server.Extensions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

int count = 20_000, window = 1000, concurrency = 8, concurrentCount = 4000, prefill = 0;
string durability = "ProcessCrashSafe";
string? dataDir = null;
bool keep = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--count": count = int.Parse(args[++i]); break;
        case "--window": window = int.Parse(args[++i]); break;
        case "--concurrency": concurrency = int.Parse(args[++i]); break;
        case "--concurrent-count": concurrentCount = int.Parse(args[++i]); break;
        case "--prefill": prefill = int.Parse(args[++i]); break;
        case "--durability": durability = args[++i]; break;
        case "--data": dataDir = args[++i]; break;
        case "--keep": keep = true; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var repo = FindRepo();
dataDir ??= Path.Combine(repo, "bench", "out", "Ingest", $"data-{durability}-{Environment.ProcessId}");
async Task<IHost> StartArchive(string dir)
{
    if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    Directory.CreateDirectory(dir);
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Kaapana:DataDir"] = dir,
        ["Kaapana:Archive:Durability"] = durability,
    });
    builder.Logging.ClearProviders();
    builder.AddKaapanaDefaults();
    builder.AddKaapanaIndex();
    builder.AddKaapanaArchive();
    var h = builder.Build();
    await h.StartAsync();
    return h;
}

async Task StopArchive(IHost h, string dir)
{
    await h.StopAsync();
    h.Dispose();
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    if (!keep) Directory.Delete(dir, recursive: true);
}

var host = await StartArchive(dataDir);
var ingest = host.Services.GetRequiredService<IIngestService>();
var writer = host.Services.GetRequiredService<IndexWriter>();

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB; data {dataDir}; durability {durability}");

var uidRoot = "2.25." + Random.Shared.NextInt64(1, long.MaxValue);
long uidCounter = 0;
string NewUid() => $"{uidRoot}.{Interlocked.Increment(ref uidCounter)}";
var pixels512 = new byte[512 * 512 * 2];
new Random(1).NextBytes(pixels512);
var pixels16 = new byte[16 * 16 * 2];

byte[] Instance(string patient, string study, string series, int number, int size)
{
    var ds = new DicomDataset();
    ds.Set(DicomTags.SOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
    ds.Set(DicomTags.SOPInstanceUID, NewUid());
    ds.Set(DicomTags.StudyDate, "20240115");
    ds.Set(DicomTags.StudyTime, "101500");
    ds.Set(DicomTags.AccessionNumber, "A" + number.ToString("D6"));
    ds.Set(DicomTags.Modality, "CT");
    ds.Set(DicomTags.Manufacturer, "Bench");
    ds.Set(DicomTags.StudyDescription, "Benchmark");
    ds.Set(DicomTags.SeriesDescription, "Axial 1.5");
    ds.Set(DicomTags.PatientName, "Bench^" + patient);
    ds.Set(DicomTags.PatientID, patient);
    ds.Set(DicomTags.PatientBirthDate, "19700101");
    ds.Set(DicomTags.PatientSex, "O");
    ds.Set(DicomTags.SliceThickness, "1.5");
    ds.Set(DicomTags.KVP, "120");
    ds.Set(DicomTags.ProtocolName, "Thorax");
    ds.Set(DicomTags.StudyInstanceUID, study);
    ds.Set(DicomTags.SeriesInstanceUID, series);
    ds.Set(DicomTags.SeriesNumber, "1");
    ds.Set(DicomTags.InstanceNumber, number.ToString());
    ds.Set(DicomTags.ImagePositionPatient, "0", "0", (number * 1.5).ToString());
    ds.Set(DicomTags.ImageOrientationPatient, "1", "0", "0", "0", "1", "0");
    ds.Set(DicomTags.FrameOfReferenceUID, study + ".1");
    ds.Set<ushort>(DicomTags.SamplesPerPixel, 1);
    ds.Set(DicomTags.PhotometricInterpretation, "MONOCHROME2");
    ds.Set<ushort>(DicomTags.Rows, (ushort)size);
    ds.Set<ushort>(DicomTags.Columns, (ushort)size);
    ds.Set(DicomTags.PixelSpacing, "0.7", "0.7");
    ds.Set<ushort>(DicomTags.BitsAllocated, 16);
    ds.Set<ushort>(DicomTags.BitsStored, 12);
    ds.Set<ushort>(DicomTags.HighBit, 11);
    ds.Set(DicomTags.PixelRepresentation, DicomVR.US, (ushort)0);
    ds.Set(DicomTags.RescaleIntercept, "-1024");
    ds.Set(DicomTags.RescaleSlope, "1");
    ds.SetBytes(DicomTags.PixelData, DicomVR.OW, size == 512 ? pixels512 : pixels16);
    using var ms = new MemoryStream(size * size * 2 + 2048);
    new DicomFile(ds).Save(ms);
    return ms.ToArray();
}

// Series of 200 instances (a CT series), 2 series a study, a new patient per study.
int seriesPos = 0;
string patientId = "", studyUid = "", seriesUid = "";
List<byte[]> Generate(int n, int size, int seriesLength = 200)
{
    var list = new List<byte[]>(n);
    for (int i = 0; i < n; i++)
    {
        if (seriesPos % seriesLength == 0)
        {
            if (seriesPos % (2 * seriesLength) == 0)
            {
                patientId = "P" + NewUid()[^8..];
                studyUid = NewUid();
            }
            seriesUid = NewUid();
        }
        seriesPos++;
        list.Add(Instance(patientId, studyUid, seriesUid, seriesPos % seriesLength + 1, size));
    }
    return list;
}

double lastCpuMsPerInstance = 0;
async Task<double> IngestSequential(List<byte[]> items)
{
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    foreach (var bytes in items)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        var r = await ingest.IngestAsync(ms, new IngestContext { Source = Kaapana.Core.Archive.Index.IngestSource.Import });
        if (r.Status != IngestStatus.Stored) throw new InvalidOperationException($"{r.Status}: {r.Reason}");
    }
    var elapsed = sw.Elapsed.TotalSeconds;
    lastCpuMsPerInstance = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / items.Count;
    return items.Count / elapsed;
}

async Task<double> IngestConcurrent(List<byte[]> items, int ingesters)
{
    var sw = Stopwatch.StartNew();
    int next = -1;
    await Task.WhenAll(Enumerable.Range(0, ingesters).Select(_ => Task.Run(async () =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < items.Count)
        {
            using var ms = new MemoryStream(items[i], writable: false);
            var r = await ingest.IngestAsync(ms, new IngestContext { Source = Kaapana.Core.Archive.Index.IngestSource.Import });
            if (r.Status != IngestStatus.Stored) throw new InvalidOperationException($"{r.Status}: {r.Reason}");
        }
    })));
    return items.Count / sw.Elapsed.TotalSeconds;
}

// Warm-up on a throw-away archive (JIT tiers, dynamic PGO), then the measured archive starts empty.
{
    var warmDir = dataDir + "-warmup";
    var measured = (host, ingest, writer);
    host = await StartArchive(warmDir);
    ingest = host.Services.GetRequiredService<IIngestService>();
    writer = host.Services.GetRequiredService<IndexWriter>();
    var sw = Stopwatch.StartNew();
    await IngestSequential(Generate(2000, 512));
    await IngestConcurrent(Generate(1000, 512), concurrency);
    Console.WriteLine($"warm-up: 3,000 instances in {sw.Elapsed.TotalSeconds:F0} s");
    await StopArchive(host, warmDir);
    (host, ingest, writer) = measured;
}
long indexed = 0;

var checkpoints = new SortedSet<long> { 0, 10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000 };
checkpoints.RemoveWhere(c => c > count - window);
if (count >= window) checkpoints.Add(count - window);
Console.WriteLine($"sequential (one ingester, like one association), {count:N0} x 512^2 CT; windows of {window:N0}:");
var results = new List<(long At, double Rate)>();
long sent = 0;
long txBefore = writer.Transactions;
var total = Stopwatch.StartNew();
foreach (var cp in checkpoints)
{
    // Untimed filler up to the checkpoint, in chunks, then the timed window.
    while (sent < cp)
    {
        var chunk = Generate((int)Math.Min(2000, cp - sent), 512);
        await IngestSequential(chunk);
        sent += chunk.Count;
    }
    var items = Generate(window, 512);
    var rate = await IngestSequential(items);
    results.Add((indexed + sent, rate));
    Console.WriteLine($"  at {indexed + sent,9:N0} indexed: {rate,7:F0} instances/s ({rate * items[0].Length / 1e6:F0} MB/s), CPU {lastCpuMsPerInstance:F2} ms/instance");
    sent += window;
}
Console.WriteLine($"  {sent:N0} in {total.Elapsed.TotalSeconds:F0} s (with generation); writer: {writer.Transactions - txBefore:N0} transactions");
foreach (var (at, rate) in results.Skip(1)) Console.WriteLine($"  ratio at {at:N0} / at {results[0].At:N0}: {rate / results[0].Rate:F2}");

if (concurrency > 0 && concurrentCount > 0)
{
    var items = Generate(concurrentCount, 512);
    txBefore = writer.Transactions;
    var seq = await IngestSequential(items.GetRange(0, Math.Min(1000, items.Count)));
    var rest = items.GetRange(Math.Min(1000, items.Count), items.Count - Math.Min(1000, items.Count));
    long tx0 = writer.Transactions;
    var rate = await IngestConcurrent(rest, concurrency);
    Console.WriteLine($"{concurrency} concurrent ingesters, {rest.Count:N0} x 512^2 CT: {rate:F0} instances/s ({rate * items[0].Length / 1e6:F0} MB/s), " +
        $"{rest.Count / (double)Math.Max(1, writer.Transactions - tx0):F1} instances per transaction; sequential just before: {seq:F0}/s, ratio {rate / seq:F2}");
}

if (prefill > 0)
{
    var sw = Stopwatch.StartNew();
    long total0 = indexed + sent + (concurrency > 0 ? concurrentCount : 0);
    long filled = total0;
    while (filled < prefill)
    {
        var chunk = Generate((int)Math.Min(10_000, prefill - filled), 16, seriesLength: 100);
        var chunkWatch = Stopwatch.StartNew();
        await IngestConcurrent(chunk, 8);
        filled += chunk.Count;
        Console.WriteLine($"  prefill: {filled:N0} indexed (this chunk {chunk.Count / chunkWatch.Elapsed.TotalSeconds:F0} small instances/s)");
    }
    // The prefill leaves ~2,000 series that complete one quiet period after their last instance (an index update and the
    // completion handlers each). Measure ingest at this size, not ingest next to that backlog: wait until it has drained.
    var drain = Stopwatch.StartNew();
    var dbFactory = host.Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>();
    int open;
    do
    {
        await Task.Delay(1000);
        await using var db = await dbFactory.CreateDbContextAsync();
        open = await db.Series.CountAsync(s => !s.IsComplete);
    } while (open > 0 && drain.Elapsed < TimeSpan.FromMinutes(5));
    Console.WriteLine($"  series completions after the prefill: drained in {drain.Elapsed.TotalSeconds:F0} s ({open} still open)");
    // Alternate windows between this archive and a fresh empty one, so both see the same machine load (the machine is shared).
    var emptyDir = dataDir + "-empty";
    var large = (host, ingest, writer);
    var emptyHost = await StartArchive(emptyDir);
    var empty = (emptyHost, emptyHost.Services.GetRequiredService<IIngestService>(), emptyHost.Services.GetRequiredService<IndexWriter>());
    var largeRates = new List<double>();
    var emptyRates = new List<double>();
    var largeCpu = new List<double>();
    var emptyCpu = new List<double>();
    const int rounds = 6;
    int roundWindow = Math.Max(100, window / 2);
    for (int round = 0; round < rounds; round++)
    {
        foreach (var onLarge in round % 2 == 0 ? new[] { true, false } : new[] { false, true })
        {
            (host, ingest, writer) = onLarge ? large : empty;
            // Each window starts with nothing dirty in the page cache: otherwise, after a few windows (500 x 527 KB each) the
            // writeback of the earlier ones throttled whichever archive came next, and all rates fell to the disk's (~650/s).
            using (var sync = System.Diagnostics.Process.Start("sync")) await sync.WaitForExitAsync();
            var rate = await IngestSequential(Generate(roundWindow, 512));
            (onLarge ? largeRates : emptyRates).Add(rate);
            (onLarge ? largeCpu : emptyCpu).Add(lastCpuMsPerInstance);
        }
    }
    await StopArchive(emptyHost, emptyDir);
    (host, ingest, writer) = large;
    static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
    Console.WriteLine($"{rounds} alternating rounds of {roundWindow:N0} x 512^2 CT, sequential: at {filled:N0} indexed {Median(largeRates):F0}/s " +
        $"[{string.Join(", ", largeRates.Select(r => r.ToString("F0")))}], on an empty archive {Median(emptyRates):F0}/s " +
        $"[{string.Join(", ", emptyRates.Select(r => r.ToString("F0")))}]; ratio of medians {Median(largeRates) / Median(emptyRates):F2}, " +
        $"median of the rounds' ratios {Median(largeRates.Zip(emptyRates, (l, e) => l / e).ToList()):F2}");
    Console.WriteLine($"  CPU per instance (process user+sys, less sensitive to other load): at {filled:N0} {Median(largeCpu):F2} ms, empty {Median(emptyCpu):F2} ms; ratio {Median(largeCpu) / Median(emptyCpu):F2}");
}

await StopArchive(host, dataDir);
return 0;

static string FindRepo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Kaapana.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}
