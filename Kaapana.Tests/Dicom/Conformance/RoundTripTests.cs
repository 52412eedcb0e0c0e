using Kaapana.Dicom;
using Xunit.Abstractions;

namespace Kaapana.Tests.Dicom.Conformance;

/// <summary>
/// Read → write → DCMTK: every parsed sample is written in its own transfer syntax and, when its pixel data is not
/// compressed, in every uncompressed syntax. dcmdump of our output must show the original's data set (see
/// <see cref="RoundTripComparer"/>), dcmftest must accept every file, and our reader must list our output as dcmdump does.
/// </summary>
public class RoundTripTests(ITestOutputHelper output)
{
    /// <summary>The four combinations of defined/undefined sequence and item lengths, spread over the files and targets.</summary>
    private static readonly (bool Sequences, bool Items)[] LengthModes = [(false, false), (true, true), (true, false), (false, true)];

    private sealed record Job(SampleFiles.Sample Sample, DicomTransferSyntax Target, DicomWriteOptions Options, string OutPath);

    [Fact]
    public void Samples_round_trip_through_their_own_and_every_uncompressed_syntax()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"kaapana-roundtrip-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var samples = SampleFiles.Parsed.ToList();
            var failures = new List<string>();
            var jobs = new List<Job>();
            int n = 0;
            foreach (var s in samples)
            {
                var source = s.File!;
                if (SampleFiles.LacksSopUids(source))
                {
                    // Refused with a message instead of a meta with empty UIDs.
                    var refused = Record.Exception(() => source.Save(new MemoryStream()));
                    if (refused is not DicomException || !refused.Message.Contains("SOP", StringComparison.Ordinal))
                        failures.Add($"{s.Name} has no SOP UIDs, but writing it gave {refused?.GetType().Name ?? "no error"}");
                    continue;
                }
                bool compressed = source.Dataset.GetElementOrDefault(DicomTags.PixelData) is DicomFragmentSequence;
                // Compressed pixel data would need decoding for another syntax; it is written through to its own syntax only.
                var targets = compressed
                    ? [source.TransferSyntax]
                    : DicomTransferSyntax.Uncompressed.Append(source.TransferSyntax).DistinctBy(t => t.Uid).ToList();
                foreach (var target in targets)
                {
                    var (seq, items) = LengthModes[n % LengthModes.Length];
                    var options = new DicomWriteOptions { TransferSyntax = target, UndefinedLengthSequences = seq, UndefinedLengthItems = items };
                    var path = Path.Combine(dir, $"{n++:D4}-{target.Uid}.dcm");
                    try
                    {
                        source.Save(path, options);
                        jobs.Add(new Job(s, target, options, path));
                    }
                    catch (Exception ex)
                    {
                        failures.Add($"{s.Name} -> {target.Name}: write failed: {ex}");
                    }
                }
            }

            // dcmftest: "yes: <file>" for a Part 10 file with preamble, DICM and meta information.
            foreach (var chunk in jobs.Chunk(200))
            {
                var r = ExternalTools.Run("dcmftest", chunk.Select(j => j.OutPath));
                foreach (var line in r.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("yes:", StringComparison.Ordinal)))
                    failures.Add($"dcmftest: {line}");
            }

            var originals = SampleFiles.DcmtkListings(samples);
            var written = DcmdumpListing.Dump(jobs.Select(j => j.OutPath));
            foreach (var job in jobs)
            {
                var what = $"{job.Sample.Name} -> {job.Target.Name} (undefined lengths: sequences {job.Options.UndefinedLengthSequences}, items {job.Options.UndefinedLengthItems})";
                var listing = written.GetValueOrDefault(job.OutPath);
                if (listing is null || listing.Entries.Count == 0)
                {
                    failures.Add($"{what}: dcmdump cannot read our output");
                    continue;
                }
                var ts = listing.Entries.FirstOrDefault(e => e.IsMeta && e.Tag == DicomTags.TransferSyntaxUID.Value);
                if (ts is null || ts.Value.TrimEnd(']').Replace("\\000", "") != "[" + job.Target.Uid)
                    failures.Add($"{what}: meta Transfer Syntax UID is {ts?.Value ?? "missing"}");

                var diffs = RoundTripComparer.Compare(originals[job.Sample.Name].Entries, listing.Entries, targetImplicit: !job.Target.IsExplicitVR);

                // Our reader on our own output, against DCMTK on the same bytes.
                var reread = DicomFile.Open(job.OutPath);
                var mode = SampleFiles.IsCharsetFile(job.Sample.Name) ? DumpComparer.TextMode.SkipCharsetText : DumpComparer.TextMode.Latin1;
                diffs.AddRange(DumpComparer.Compare(DicomDump.Lines(reread).ToList(), listing.Entries, mode).Select(d => "re-read: " + d));
                if (reread.TransferSyntax.Uid != job.Target.Uid) diffs.Add($"re-read as {reread.TransferSyntax.Name}");
                if (diffs.Count > 0) failures.Add($"{what}:\n  " + string.Join("\n  ", diffs));
            }
            output.WriteLine($"{samples.Count} samples, {jobs.Count} files written, dumped and tested");
            Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)) + (failures.Count > 30 ? $"\n... {failures.Count - 30} more" : ""));
            Assert.True(jobs.Count >= 400, $"only {jobs.Count} round trips");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
