using System.IO.Compression;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Storage;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Export;

/// <summary>How far a zip export has come: instances and bytes written of the totals known at the start.</summary>
public sealed record ZipExportProgress(int InstancesDone, int InstancesTotal, long BytesDone, long BytesTotal);

/// <summary>What an export wrote, and which instances it had to leave out because their file was gone.</summary>
public sealed record ZipExportSummary(int Series, int Instances, long Bytes, IReadOnlyList<string> MissingFiles);

/// <summary>
/// Writes series as a zip (stored, not deflated: DICOM pixel data is mostly compressed already or barely shrinks, and the
/// export should run at disk speed) to any stream, including a non-seekable HTTP response body, so an export of any size
/// is streamed and never held in memory. Entries are <c>PatientID/StudyUID/SeriesUID/SOPInstanceUID.dcm</c> with every
/// path component made safe for file systems. Used by the dataset download and the zip-export built-in workflow.
/// </summary>
public sealed class SeriesZipWriter(IDbContextFactory<KaapanaDbContext> dbFactory, IArchiveStorage storage)
{
    /// <param name="onlyInstances">When given, only these SOP Instance UIDs of the series (a frozen version's list).</param>
    public async Task<ZipExportSummary> WriteAsync(IReadOnlyCollection<string> seriesUids, Stream output,
        IProgress<ZipExportProgress>? progress = null, CancellationToken ct = default, IReadOnlySet<string>? onlyInstances = null)
    {
        var files = await ListAsync(seriesUids, ct);
        if (onlyInstances is not null) files.RemoveAll(f => !onlyInstances.Contains(f.SOPInstanceUID));
        long bytesTotal = files.Sum(f => f.FileSize);
        long bytesDone = 0;
        int done = 0;
        var missing = new List<string>();
        var seriesWritten = new HashSet<string>(StringComparer.Ordinal);
        // Created and disposed asynchronously, through a wrapper that holds the few bytes ZipArchive still writes synchronously:
        // an HTTP response body refuses synchronous writes.
        await using var sink = new AsyncFlushingStream(output);
        var zip = await ZipArchive.CreateAsync(sink, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, ct);
        await using (zip)
        {
            foreach (var f in files)
            {
                ct.ThrowIfCancellationRequested();
                Stream source;
                try
                {
                    source = storage.OpenRead(f.StoragePath);
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
                {
                    // The consistency check reports such rows; an export names them instead of failing half-way.
                    missing.Add(f.SOPInstanceUID);
                    continue;
                }
                await using (source)
                {
                    var entry = zip.CreateEntry(EntryName(f), CompressionLevel.NoCompression);
                    entry.LastWriteTime = new DateTimeOffset(DateTime.SpecifyKind(f.ReceivedAt, DateTimeKind.Utc));
                    await using var target = await entry.OpenAsync(ct);
                    await source.CopyToAsync(target, 1 << 16, ct);
                }
                seriesWritten.Add(f.SeriesInstanceUID);
                done++;
                bytesDone += f.FileSize;
                progress?.Report(new ZipExportProgress(done, files.Count, bytesDone, bytesTotal));
            }
        }
        await sink.FlushAsync(ct);
        return new ZipExportSummary(seriesWritten.Count, done, bytesDone, missing);
    }

    /// <summary>Instances and bytes an export of these series would write (for a progress total or a size shown before download).</summary>
    public async Task<(int Instances, long Bytes)> MeasureAsync(IReadOnlyCollection<string> seriesUids, CancellationToken ct = default,
        IReadOnlySet<string>? onlyInstances = null)
    {
        var files = await ListAsync(seriesUids, ct);
        if (onlyInstances is not null) files.RemoveAll(f => !onlyInstances.Contains(f.SOPInstanceUID));
        return (files.Count, files.Sum(f => f.FileSize));
    }

    private sealed record ExportFile(string PatientID, string StudyInstanceUID, string SeriesInstanceUID, string SOPInstanceUID,
        string StoragePath, long FileSize, DateTime ReceivedAt);

    private async Task<List<ExportFile>> ListAsync(IReadOnlyCollection<string> seriesUids, CancellationToken ct)
    {
        var uids = seriesUids.Distinct(StringComparer.Ordinal).ToList();
        var result = new List<ExportFile>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Chunked so a cohort of thousands of series stays under SQLite's parameter limit.
        foreach (var chunk in uids.Chunk(500))
        {
            var rows = await db.Instances.AsNoTracking()
                .Where(i => chunk.Contains(i.Series.SeriesInstanceUID))
                .OrderBy(i => i.Series.Study.StudyInstanceUID).ThenBy(i => i.Series.SeriesInstanceUID).ThenBy(i => i.InstanceNumber).ThenBy(i => i.SOPInstanceUID)
                .Select(i => new ExportFile(i.Series.Study.Patient.PatientID, i.Series.Study.StudyInstanceUID, i.Series.SeriesInstanceUID,
                    i.SOPInstanceUID, i.StoragePath, i.FileSize, i.ReceivedAt))
                .ToListAsync(ct);
            result.AddRange(rows);
        }
        return result;
    }

    private static string EntryName(ExportFile f) =>
        $"{SafeComponent(f.PatientID)}/{SafeComponent(f.StudyInstanceUID)}/{SafeComponent(f.SeriesInstanceUID)}/{SafeComponent(f.SOPInstanceUID)}.dcm";

    /// <summary>Patient IDs are free text: anything but letters, digits, '-', '_' and '.' becomes '_', and "." or ".." cannot occur.</summary>
    public static string SafeComponent(string value)
    {
        if (string.IsNullOrWhiteSpace(value)) return "_";
        var chars = value.Trim().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var s = new string(chars);
        return s.Trim('.').Length == 0 ? "_" : s;
    }
}
