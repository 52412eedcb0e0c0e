using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Conformance;
using Xunit.Abstractions;

namespace Kaapana.Tests.Dicom.Fuzz;

/// <summary>
/// Mutation fuzzing of the reader with small sample files as seeds. Properties checked for every case:
/// <list type="bullet">
/// <item>only <see cref="DicomFormatException"/> escapes <see cref="DicomFile.Read"/> / <see cref="DicomFile.Open"/>;</item>
/// <item>a parsed data set can be fully accessed (values, counts, strings, nested items, fragments, lazy values, the
/// <see cref="DicomDump"/> listing) and written, throwing nothing but <see cref="DicomException"/>s, and what we write reads back;</item>
/// <item>a case finishes within <see cref="CaseTimeLimit"/> (a watchdog thread checks) and allocates less than <see cref="CaseAllocationLimit"/>.</item>
/// </list>
/// Cases are deterministic: case i of the run uses <c>new Random(BaseSeed + i)</c>; a failure message names the case and its
/// mutation, and <see cref="MakeCase"/> rebuilds its bytes.
/// </summary>
public class ReaderFuzzTests(ITestOutputHelper output)
{
    // Fixed so that a failure reproduces; set KAAPANA_FUZZ_SEED / KAAPANA_FUZZ_CASES to explore further locally.
    private static readonly int BaseSeed = int.TryParse(Environment.GetEnvironmentVariable("KAAPANA_FUZZ_SEED"), out var s) ? s : 20240611;
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("KAAPANA_FUZZ_CASES"), out var n) ? n : 24_000;
    private static readonly TimeSpan CaseTimeLimit = TimeSpan.FromSeconds(2);
    private const long CaseAllocationLimit = 32L << 20;

    /// <summary>Small files covering every encoding path: implicit/explicit, big endian, deflate, sequences of both length
    /// kinds, UN sequences, encapsulated pixel data, odd lengths, DICOMDIR, ISO 2022 text in nested items.</summary>
    private static readonly string[] SeedNames =
    [
        "test_files/ExplVR_BigEndNoMeta.dcm", "test_files/ExplVR_LitEndNoMeta.dcm", "test_files/nested_priv_SQ.dcm",
        "test_files/priv_SQ.dcm", "test_files/UN_sequence.dcm", "test_files/image_dfl.dcm", "test_files/SC_rgb_small_odd.dcm",
        "test_files/SC_rgb_rle.dcm", "test_files/JPEG2000.dcm", "test_files/reportsi.dcm", "test_files/rtplan.dcm",
        "test_files/dicomdirtests/DICOMDIR-empty.dcm", "test_files/rtdose_1frame.dcm", "test_files/empty_charset_LEI.dcm",
        "charset_files/chrSQEncoding.dcm", "charset_files/chrH32.dcm",
    ];

    internal enum ReadMode { Seekable, NonSeekable, StopBeforePixelData, NonSeekableStopBeforePixelData, LazyFromFile }

    private sealed record Seed(string Name, byte[] Bytes, (int Offset, int Size)[] LengthFields);

    private static readonly Lazy<Seed[]> s_seeds = new(() => SeedNames.Select(n =>
    {
        var bytes = File.ReadAllBytes(ExternalTools.FullPath(n));
        return new Seed(n, bytes, FindLengthFields(bytes));
    }).ToArray());

    /// <summary>Where explicit VR headers and item headers keep their lengths: the best places to plant absurd lengths.</summary>
    private static (int, int)[] FindLengthFields(byte[] b)
    {
        var found = new List<(int, int)>();
        for (int i = 4; i + 8 <= b.Length; i++)
        {
            if (DicomVRInfo.TryParse(b.AsSpan(i, 2), out var vr))
                found.Add(vr.HasLongLength() && b[i + 2] == 0 && b[i + 3] == 0 ? (i + 4, 4) : (i + 2, 2));
            bool itemLE = b[i] == 0xFE && b[i + 1] == 0xFF && b[i + 3] == 0xE0;
            bool itemBE = b[i] == 0xFF && b[i + 1] == 0xFE && b[i + 2] == 0xE0;
            if (itemLE || itemBE) found.Add((i + 4, 4));
        }
        return [.. found];
    }

    private static readonly uint[] HugeValues = [0xFFFFFFF0, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0xFFFFFFFE, 0x7FFFFFF0, 0x00FFFFFF, 0x0001_0000, 0xFFFF, 0xFFFE];

    /// <summary>The bytes and read mode of case <paramref name="index"/>, and what was done to the seed.</summary>
    internal static (byte[] Data, ReadMode Mode, string Description) MakeCase(int index)
    {
        var seeds = s_seeds.Value;
        var rng = new Random(BaseSeed + index);
        var seed = seeds[rng.Next(seeds.Length)];
        var data = seed.Bytes;
        var steps = new List<string>();
        int mutations = rng.Next(4) == 0 ? 2 : 1;
        for (int m = 0; m < mutations; m++) data = Mutate(data, seed, rng, steps);
        var mode = (ReadMode)(index % 5);
        return (data, mode, $"case {index}: {seed.Name}, {string.Join(", ", steps)}, {mode}");
    }

    private static byte[] Mutate(byte[] data, Seed seed, Random rng, List<string> steps)
    {
        if (data.Length == 0) return data;
        switch (rng.Next(6))
        {
            case 0:
            {
                int at = rng.Next(data.Length);
                steps.Add($"truncate at {at}");
                return data[..at];
            }
            case 1:
            {
                var copy = (byte[])data.Clone();
                int flips = 1 + rng.Next(8);
                for (int i = 0; i < flips; i++)
                {
                    int at = rng.Next(copy.Length), bit = rng.Next(8);
                    copy[at] ^= (byte)(1 << bit);
                    steps.Add($"flip bit {bit} at {at}");
                }
                return copy;
            }
            case 2 when seed.LengthFields.Length > 0:
            {
                var copy = (byte[])data.Clone();
                var (offset, size) = seed.LengthFields[rng.Next(seed.LengthFields.Length)];
                if (offset + size > copy.Length) return copy;
                uint value = HugeValues[rng.Next(HugeValues.Length)];
                bool big = rng.Next(2) == 0;
                if (size == 2)
                {
                    if (big) BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(offset), (ushort)value);
                    else BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(offset), (ushort)value);
                }
                else if (big) BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(offset), value);
                else BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(offset), value);
                steps.Add($"length field at {offset} ({size} bytes) = 0x{value:X8} {(big ? "BE" : "LE")}");
                return copy;
            }
            case 2:
            case 3:
            {
                var copy = (byte[])data.Clone();
                int at = rng.Next(Math.Max(1, copy.Length - 4));
                uint value = HugeValues[rng.Next(HugeValues.Length)];
                if (at + 4 <= copy.Length) BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(at), value);
                steps.Add($"0x{value:X8} written at {at}");
                return copy;
            }
            case 4:
            {
                int at = rng.Next(data.Length), len = Math.Min(1 + rng.Next(64), data.Length - at);
                steps.Add($"delete {len} bytes at {at}");
                return [.. data.AsSpan(0, at), .. data.AsSpan(at + len)];
            }
            default:
            {
                int from = rng.Next(data.Length), len = Math.Min(1 + rng.Next(64), data.Length - from), to = rng.Next(data.Length);
                steps.Add($"copy {len} bytes from {from} to {to}");
                return [.. data.AsSpan(0, to), .. data.AsSpan(from, len), .. data.AsSpan(to)];
            }
        }
    }

    /// <summary>Per worker thread: the case it is running and since when, for the watchdog.</summary>
    private sealed class Worker
    {
        public volatile int Current = -1;
        public long StartedAt;
        public int Parsed, Rejected;
        public long MaxTicks, MaxAllocated;
        public int MaxAllocatedCase;
        public string? TempFile;
    }

    [Fact]
    public void Mutated_samples_raise_only_format_errors_quickly_and_parse_results_are_fully_usable()
    {
        // Fail here, not in a worker, when the samples are missing; and pay one-time costs (dictionary index, character set
        // tables) up front, so that they do not count as a case's allocations.
        foreach (var seed in s_seeds.Value) UseEverything(DicomFile.Read(new MemoryStream(seed.Bytes)));
        var failures = new ConcurrentQueue<string>();
        int next = -1;
        int workerCount = Math.Max(2, Environment.ProcessorCount);
        var workers = Enumerable.Range(0, workerCount).Select(_ => new Worker()).ToArray();
        var tempDir = Path.Combine(Path.GetTempPath(), $"kaapana-fuzz-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tempDir);
        var total = Stopwatch.StartNew();
        var threads = workers.Select((w, k) => new Thread(() =>
        {
            w.TempFile = Path.Combine(tempDir, $"worker{k}.dcm");
            int i;
            while ((i = Interlocked.Increment(ref next)) < Cases && failures.Count < 20)
            {
                var (data, mode, description) = MakeCase(i);
                Volatile.Write(ref w.StartedAt, Stopwatch.GetTimestamp());
                w.Current = i;
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    if (RunCase(data, mode, w.TempFile)) w.Parsed++; else w.Rejected++;
                }
                catch (Exception ex)
                {
                    failures.Enqueue($"{description}: {ex}");
                }
                allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
                long ticks = Stopwatch.GetTimestamp() - w.StartedAt;
                w.Current = -1;
                w.MaxTicks = Math.Max(w.MaxTicks, ticks);
                if (allocated > w.MaxAllocated) (w.MaxAllocated, w.MaxAllocatedCase) = (allocated, i);
                if (allocated > CaseAllocationLimit) failures.Enqueue($"{description}: allocated {allocated:N0} bytes for a {data.Length}-byte input");
            }
        }) { IsBackground = true, Name = $"fuzz-{k}" }).ToList();
        try
        {
            threads.ForEach(t => t.Start());
            // Watchdog: a case that runs too long fails the test at once (its thread is left behind; it is a background thread).
            while (threads.Any(t => t.IsAlive))
            {
                Thread.Sleep(20);
                foreach (var w in workers)
                {
                    int c = w.Current;
                    if (c >= 0 && Stopwatch.GetElapsedTime(Volatile.Read(ref w.StartedAt)) > CaseTimeLimit && w.Current == c)
                        Assert.Fail($"{MakeCase(c).Description}: still running after {CaseTimeLimit.TotalSeconds} s");
                }
            }
        }
        finally
        {
            if (threads.All(t => !t.IsAlive)) Directory.Delete(tempDir, recursive: true);
        }
        int parsed = workers.Sum(w => w.Parsed), rejected = workers.Sum(w => w.Rejected);
        output.WriteLine($"{parsed + rejected} cases ({parsed} parsed, {rejected} rejected) in {total.Elapsed.TotalSeconds:F1} s; "
            + $"slowest {TimeSpan.FromTicks(workers.Max(w => w.MaxTicks) * TimeSpan.TicksPerSecond / Stopwatch.Frequency).TotalMilliseconds:F0} ms, "
            + $"most allocated {workers.Max(w => w.MaxAllocated):N0} bytes (case {workers.MaxBy(w => w.MaxAllocated)!.MaxAllocatedCase})");
        Assert.True(failures.IsEmpty, string.Join("\n\n", failures.Take(10)));
        Assert.Equal(Cases, parsed + rejected);
        // A fuzzer whose mutations all fail (or all pass) at the first byte would test little.
        Assert.True(parsed > Cases / 10 && rejected > Cases / 10, $"{parsed} parsed, {rejected} rejected");
    }

    /// <summary>True when the input parsed; false when it was rejected with a format error. Anything else throws.</summary>
    private static bool RunCase(byte[] data, ReadMode mode, string tempFile)
    {
        DicomFile file;
        try
        {
            switch (mode)
            {
                case ReadMode.LazyFromFile:
                    File.WriteAllBytes(tempFile, data);
                    file = DicomFile.Open(tempFile, new DicomReadOptions { LargeValueThreshold = 16 });
                    break;
                default:
                    var options = new DicomReadOptions { StopBeforePixelData = mode is ReadMode.StopBeforePixelData or ReadMode.NonSeekableStopBeforePixelData };
                    Stream stream = new MemoryStream(data, writable: false);
                    if (mode is ReadMode.NonSeekable or ReadMode.NonSeekableStopBeforePixelData) stream = new NonSeekableStream(stream);
                    file = DicomFile.Read(stream, options);
                    break;
            }
        }
        catch (DicomFormatException)
        {
            return false;
        }
        UseEverything(file);
        return true;
    }

    /// <summary>Touches every element the way an application would; only DicomExceptions may come out.</summary>
    internal static void UseEverything(DicomFile file)
    {
        Guard(() => Touch(file.FileMetaInfo));
        Guard(() => Touch(file.Dataset));
        Guard(() =>
        {
            foreach (var line in DicomDump.Lines(file)) _ = DicomDump.Format(line);
            _ = DicomDump.ToText(file);
        });
        if (file.IsPartial)
        {
            Assert.Throws<DicomException>(() => file.Save(new MemoryStream()));
            return;
        }
        var written = new MemoryStream();
        bool saved = Guard(() => file.Save(written));
        if (!saved) return;
        // What we wrote must read back (whatever the input's oddities), with the same number of top-level elements.
        written.Position = 0;
        var again = DicomFile.Read(written);
        Assert.Equal(file.Dataset.Count(e => !(e.Tag.IsGroupLength || e.Tag.Group == 0x0002)), again.Dataset.Count());
    }

    private static bool Guard(Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (DicomException)
        {
            return false;
        }
    }

    private static void Touch(DicomDataset ds)
    {
        _ = ds.CharacterSet;
        foreach (var e in ds)
        {
            switch (e)
            {
                case DicomValueElement v:
                    Guard(() =>
                    {
                        _ = v.Buffer.Memory.Length;
                        _ = v.Count(ds.CharacterSet);
                    });
                    Guard(() => ds.GetStrings(v.Tag));
                    Guard(() => ds.GetString(v.Tag));
                    Guard(() => ds.GetValueCount(v.Tag));
                    Guard(() => ds.TryGet<string>(v.Tag, out _));
                    Guard(() => ds.TryGet<double>(v.Tag, out _));
                    Guard(() => ds.TryGet<long>(v.Tag, 1, out _));
                    Guard(() => ds.TryGet<DateTime>(v.Tag, out _));
                    Guard(() => ds.TryGet<DicomPersonName>(v.Tag, out _));
                    Guard(() => ds.TryGet<DicomTag>(v.Tag, out _));
                    Guard(() => ds.GetValues<string>(v.Tag));
                    if (v.Tag.IsPrivate) Guard(() => ds.GetPrivateCreator(v.Tag));
                    break;
                case DicomSequence sq:
                    Assert.Equal(sq.Items.Count, ds.GetValueCount(sq.Tag));
                    foreach (var item in sq.Items) Touch(item);
                    break;
                case DicomFragmentSequence f:
                    Guard(() => _ = f.BasicOffsets);
                    foreach (var frag in f.Fragments) Guard(() => _ = frag.Memory.Length);
                    break;
            }
        }
    }

    [Fact]
    public void Converting_all_values_of_a_long_multi_valued_element_takes_linear_work()
    {
        // GetValues used to decode and split the whole value once per value: 20,000 values made 400 million string copies.
        var values = Enumerable.Range(0, 20_000).Select(i => (i % 1000).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var ds = new DicomDataset().Set(DicomTags.GridFrameOffsetVector, DicomVR.DS, values);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(999.0, ds.GetValues<double>(DicomTags.GridFrameOffsetVector)[999]);
        Assert.Equal("5", ds.GetValues<string>(DicomTags.GridFrameOffsetVector)[5]);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
    }

    [Fact]
    public void Case_generation_is_deterministic()
    {
        var a = MakeCase(1234);
        var b = MakeCase(1234);
        Assert.Equal(a.Description, b.Description);
        Assert.Equal(a.Data, b.Data);
    }
}

/// <summary>A stream that hides its length and position, like a network socket or a pipe.</summary>
internal sealed class NonSeekableStream(Stream inner) : ReadOnlyStream
{
    public override int Read(Span<byte> buffer) => inner.Read(buffer);
    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
