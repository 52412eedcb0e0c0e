using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Maintenance;
using Kaapana.Core.Workflows.Manifest;
using Kaapana.Core.Workflows.Runs;
using Kaapana.Dicom;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Workflows.Results;

/// <summary>What came back from an item: an error (nothing was kept) or what was kept.</summary>
public sealed record CollectResult(string? Error, int DerivedInstances, int DerivedSeries, int Artifacts, bool HasMetrics)
{
    public static CollectResult Fail(string error) => new(error, 0, 0, 0, false);
}

/// <summary>
/// Results back: checks everything in an item's <c>/output</c> before keeping anything, then ingests DICOM as derived series
/// (into the run's results dataset, with a provenance link to the item), keeps other files as artifacts under the data
/// directory, and stores <c>metrics.json</c>. Any invalid output fails the item and leaves nothing behind.
/// </summary>
public sealed class OutputCollector(
    IDbContextFactory<KaapanaDbContext> dbFactory,
    IIngestService ingest,
    IArchiveMaintenance maintenance,
    WorkflowPaths paths,
    ILogger<OutputCollector> logger)
{
    public const string MetricsFile = "metrics.json";
    private const int MaxListedErrors = 5;
    private static readonly DicomReadOptions HeaderOnly = new() { StopBeforePixelData = true, LargeValueThreshold = 4096 };

    private sealed record DicomOutput(string Path, string Name, string Study, string Series, string Sop);

    public async Task<CollectResult> CollectAsync(WorkflowRun run, RunItem item, AlgorithmManifest manifest, string outputDir, CancellationToken ct)
    {
        var errors = new List<string>();
        var files = new List<(string Path, string Name)>();
        if (Directory.Exists(outputDir))
        {
            foreach (var entry in new DirectoryInfo(outputDir).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
            {
                var name = Path.GetRelativePath(outputDir, entry.FullName).Replace('\\', '/');
                // A link made in the container would be followed on the host: never read through one.
                if (entry.LinkTarget is not null) errors.Add($"{name}: a symbolic link (outputs must be regular files)");
                else if (entry is FileInfo) files.Add((entry.FullName, name));
            }
        }

        // 1. Metrics.
        string? metricsJson = null;
        var metricsEntry = files.FirstOrDefault(f => f.Name == MetricsFile);
        if (manifest.Outputs.Contains(OutputKind.Metrics) && metricsEntry.Path is not null)
        {
            files.Remove(metricsEntry);
            try
            {
                var node = JsonNode.Parse(await File.ReadAllTextAsync(metricsEntry.Path, ct));
                if (node is not JsonObject obj) errors.Add($"{MetricsFile}: must be a JSON object of names to numbers, strings or booleans");
                else if (obj.FirstOrDefault(p => p.Value is not null && p.Value.GetValueKind() is JsonValueKind.Object or JsonValueKind.Array) is { Key: not null } nested)
                    errors.Add($"{MetricsFile}: '{nested.Key}' is not a number, string or boolean (metrics are one flat row per item)");
                else metricsJson = obj.ToJsonString();
            }
            catch (JsonException e)
            {
                errors.Add($"{MetricsFile}: not JSON ({e.Message})");
            }
        }

        // 2. DICOM: every candidate must be a readable Part 10 file with its UIDs, not a copy of an input instance.
        var dicom = new List<DicomOutput>();
        if (manifest.Outputs.Contains(OutputKind.Dicom))
        {
            var input = WorkflowRuns.ReadInput(item);
            var inputSeries = input.Select(i => i.Series).ToHashSet(StringComparer.Ordinal);
            var inputSops = input.Select(i => i.Sop).ToHashSet(StringComparer.Ordinal);
            var invalid = new List<string>();
            foreach (var (path, name) in files.Where(f => IsDicomCandidate(f.Path)).ToList())
            {
                files.Remove((path, name));
                var (output, error) = ReadHeader(path, name);
                if (error is not null) invalid.Add($"{name}: {error}");
                else if (inputSeries.Contains(output!.Series)) invalid.Add($"{name}: reuses the input's Series Instance UID {output.Series}; derived data needs a new series");
                else if (inputSops.Contains(output.Sop)) invalid.Add($"{name}: reuses the input's SOP Instance UID {output.Sop}");
                else dicom.Add(output);
            }
            var duplicates = dicom.GroupBy(d => d.Sop).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            if (duplicates.Count > 0) invalid.Add($"{duplicates.Count} SOP Instance UIDs appear in more than one file, e.g. {duplicates[0]}");
            if (invalid.Count > 0)
                errors.Add($"{invalid.Count} output file(s) are not valid DICOM: " + string.Join("; ", invalid.Take(MaxListedErrors)) +
                    (invalid.Count > MaxListedErrors ? $"; and {invalid.Count - MaxListedErrors} more" : ""));
        }
        if (errors.Count > 0) return CollectResult.Fail(string.Join(" | ", errors));

        // 3. Ingest. The provenance links are written first (incomplete), so a crash mid-ingest leaves a trace the next
        // attempt cleans up (see RemovePreviousOutputsAsync) instead of derived series nobody knows came from this item.
        int seriesCount = 0;
        if (dicom.Count > 0)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var project = await db.Projects.AsNoTracking().Where(p => p.Id == run.ProjectId).Select(p => p.Name).FirstAsync(ct);
            var dataset = run.ResultsDatasetId is { } dsId ? await db.Datasets.AsNoTracking().Where(d => d.Id == dsId).Select(d => d.Name).FirstOrDefaultAsync(ct) : null;
            var seriesUids = dicom.Select(d => d.Series).Distinct().ToList();
            var taken = await db.DerivedSeries.AsNoTracking().Where(d => seriesUids.Contains(d.SeriesInstanceUID)).Select(d => d.SeriesInstanceUID).FirstOrDefaultAsync(ct)
                ?? await db.Series.AsNoTracking().Where(s => seriesUids.Contains(s.SeriesInstanceUID)).Select(s => s.SeriesInstanceUID).FirstOrDefaultAsync(ct);
            if (taken is not null)
                return CollectResult.Fail($"output series {taken} exists in the archive already; an algorithm must write new Series Instance UIDs for each run");
            var sources = JsonSerializer.Serialize(WorkflowRuns.ReadInput(item).Select(i => i.Series).Distinct().Order(StringComparer.Ordinal));
            var links = seriesUids.Select(uid => new DerivedSeries
            {
                SeriesInstanceUID = uid, RunId = run.Id, RunItemId = item.Id, SourceSeriesJson = sources,
                InstanceCount = dicom.Count(d => d.Series == uid), Complete = false, CreatedAt = DateTime.UtcNow,
            }).ToList();
            db.DerivedSeries.AddRange(links);
            await db.SaveChangesAsync(ct);

            var context = new IngestContext { Source = IngestSource.Algorithm, Project = project, Dataset = dataset, UploadUser = $"run:{run.Id}" };
            var rejected = new List<string>();
            foreach (var output in dicom)
            {
                await using var stream = File.OpenRead(output.Path);
                var result = await ingest.IngestAsync(stream, context, ct);
                if (!result.IsSuccess || result.ContentDiffers) rejected.Add($"{output.Name}: {result.Reason ?? result.Status.ToString()}");
            }
            if (rejected.Count > 0)
            {
                await RemoveDerivedAsync(item.Id, ct);
                return CollectResult.Fail($"{rejected.Count} output file(s) were refused by the archive: " + string.Join("; ", rejected.Take(MaxListedErrors)));
            }
            foreach (var link in links) link.Complete = true;
            await db.SaveChangesAsync(ct);
            seriesCount = links.Count;
        }

        // 4. Artifacts: what is left, moved out of the work folder (same file system) under the run's artifacts folder.
        int artifacts = 0;
        if (manifest.Outputs.Contains(OutputKind.Files) && files.Count > 0)
        {
            var dir = paths.ArtifactDir(run.Id, item.Id);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            foreach (var (path, name) in files)
            {
                var target = Path.GetFullPath(Path.Combine(dir, name));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(path, target, overwrite: true);
                string hash;
                await using (var fs = File.OpenRead(target)) hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(fs, ct));
                db.RunArtifacts.Add(new RunArtifact
                {
                    RunId = run.Id, RunItemId = item.Id, Name = name, StoragePath = paths.Relative(target), Size = new FileInfo(target).Length,
                    Sha256 = hash, CreatedAt = DateTime.UtcNow,
                });
                artifacts++;
            }
            await db.SaveChangesAsync(ct);
        }

        if (metricsJson is not null)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await db.RunItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.MetricsJson, metricsJson), ct);
        }
        logger.LogInformation("Run {Run} item {Item}: {Instances} derived instances in {Series} series, {Artifacts} artifacts", run.Id, item.Id, dicom.Count, seriesCount, artifacts);
        return new CollectResult(null, dicom.Count, seriesCount, artifacts, metricsJson is not null);
    }

    /// <summary>Removes what an earlier, interrupted attempt of the item kept: derived series, artifacts, metrics.</summary>
    public async Task RemovePreviousOutputsAsync(RunItem item, CancellationToken ct)
    {
        await RemoveDerivedAsync(item.Id, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var artifact in await db.RunArtifacts.Where(a => a.RunItemId == item.Id).ToListAsync(ct))
        {
            File.Delete(paths.Absolute(artifact.StoragePath));
            db.RunArtifacts.Remove(artifact);
        }
        await db.SaveChangesAsync(ct);
        await db.RunItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.MetricsJson, (string?)null), ct);
    }

    private async Task RemoveDerivedAsync(long itemId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var link in await db.DerivedSeries.Where(d => d.RunItemId == itemId).ToListAsync(ct))
        {
            await maintenance.DeleteSeriesAsync(link.SeriesInstanceUID, ct);
            db.DerivedSeries.Remove(link);
            logger.LogInformation("Removed derived series {Series} of item {Item} (an earlier or failed attempt)", link.SeriesInstanceUID, itemId);
        }
        await db.SaveChangesAsync(ct);
    }

    // By name or by the Part 10 signature, so a DICOM file written without an extension is not taken for an artifact.
    private static bool IsDicomCandidate(string path)
    {
        if (path.EndsWith(".dcm", StringComparison.OrdinalIgnoreCase)) return true;
        Span<byte> head = stackalloc byte[132];
        using var fs = File.OpenRead(path);
        return fs.ReadAtLeast(head, 132, throwOnEndOfStream: false) == 132 && head[128..].SequenceEqual("DICM"u8);
    }

    private static (DicomOutput? Output, string? Error) ReadHeader(string path, string name)
    {
        var length = new FileInfo(path).Length;
        if (length == 0) return (null, "empty file");
        if (length < 132) return (null, $"only {length} bytes, too short for a DICOM file");
        Span<byte> head = stackalloc byte[132];
        using (var fs = File.OpenRead(path)) fs.ReadExactly(head);
        if (!head[128..].SequenceEqual("DICM"u8)) return (null, "no DICM signature at byte 128 (not a DICOM Part 10 file)");
        DicomDataset ds;
        try
        {
            ds = DicomFile.Open(path, HeaderOnly).Dataset;
        }
        catch (Exception e) when (e is DicomException or IOException or InvalidDataException or FormatException or ArgumentException)
        {
            return (null, $"unreadable: {e.Message}");
        }
        string? Uid(DicomTag tag) => ds.TryGet<string>(tag, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim().TrimEnd('\0') : null;
        var missing = new[] { ("SOPClassUID", DicomTags.SOPClassUID), ("SOPInstanceUID", DicomTags.SOPInstanceUID), ("StudyInstanceUID", DicomTags.StudyInstanceUID), ("SeriesInstanceUID", DicomTags.SeriesInstanceUID) }
            .Where(t => Uid(t.Item2) is null).Select(t => t.Item1).ToList();
        if (missing.Count > 0) return (null, "missing " + string.Join(", ", missing));
        return (new DicomOutput(path, name, Uid(DicomTags.StudyInstanceUID)!, Uid(DicomTags.SeriesInstanceUID)!, Uid(DicomTags.SOPInstanceUID)!), null);
    }
}
