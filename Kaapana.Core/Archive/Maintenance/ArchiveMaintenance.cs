using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Archive.Storage;
using Kaapana.Dicom;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Archive.Maintenance;

/// <summary>Deleting series, rebuilding the index from the files, and checking that files and rows agree.</summary>
public interface IArchiveMaintenance
{
    /// <summary>Removes a series: its rows (instances, attributes, project and dataset links; the study and patient too when left empty) and then its files. Dataset versions keep their UID lists.</summary>
    Task<bool> DeleteSeriesAsync(string seriesInstanceUid, CancellationToken ct = default);

    /// <summary>
    /// Indexes every stored file that has no row (all of them for a lost database), through the same batched writer as ingest.
    /// Rows that exist are left alone. Re-indexed series go to <paramref name="project"/> (default: the default project),
    /// since project membership lives only in the index.
    /// </summary>
    Task<ReindexReport> ReindexAsync(string? project = null, CancellationToken ct = default);

    /// <summary>Files without rows, rows without files, size mismatches and staging leftovers.</summary>
    Task<ConsistencyReport> CheckConsistencyAsync(CancellationToken ct = default);
}

public sealed record ReindexReport(int FilesScanned, int Indexed, int AlreadyIndexed, IReadOnlyList<string> Unreadable);

public sealed record ConsistencyReport(
    int FilesScanned,
    int RowsScanned,
    IReadOnlyList<string> FilesWithoutRows,
    IReadOnlyList<MissingFile> RowsWithoutFiles,
    IReadOnlyList<SizeMismatch> SizeMismatches,
    int StagingFiles)
{
    public bool IsConsistent => FilesWithoutRows.Count == 0 && RowsWithoutFiles.Count == 0 && SizeMismatches.Count == 0;
}

public sealed record MissingFile(string SOPInstanceUID, string StoragePath);

public sealed record SizeMismatch(string SOPInstanceUID, string StoragePath, long IndexedSize, long FileSize);

public sealed class ArchiveMaintenance(
    IDbContextFactory<KaapanaDbContext> dbFactory,
    IArchiveStorage storage,
    IndexWriter writer,
    IProjectCatalog projects,
    SeriesStabilityMonitor stability,
    ILogger<ArchiveMaintenance> logger) : IArchiveMaintenance
{
    private static readonly DicomReadOptions ParseOptions = new() { LargeValueThreshold = 4096 };

    public async Task<bool> DeleteSeriesAsync(string seriesInstanceUid, CancellationToken ct = default)
    {
        List<string> files;
        long seriesId;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var series = await db.Series.Include(s => s.Study).ThenInclude(st => st.Patient)
                .FirstOrDefaultAsync(s => s.SeriesInstanceUID == seriesInstanceUid, ct);
            if (series is null) return false;
            seriesId = series.Id;
            files = await db.Instances.Where(i => i.SeriesId == series.Id).Select(i => i.StoragePath).ToListAsync(ct);
            var study = series.Study;
            var patient = study.Patient;

            // Children first, explicitly, so a provider without cascading deletes behaves the same.
            await db.Instances.Where(i => i.SeriesId == series.Id).ExecuteDeleteAsync(ct);
            await db.SeriesAttributes.Where(a => a.SeriesId == series.Id).ExecuteDeleteAsync(ct);
            await db.ProjectSeries.Where(l => l.SeriesId == series.Id).ExecuteDeleteAsync(ct);
            await db.DatasetSeries.Where(l => l.SeriesId == series.Id).ExecuteDeleteAsync(ct);
            db.Series.Remove(series);

            study.NumberOfSeries--;
            study.NumberOfInstances -= series.NumberOfInstances;
            study.TotalSize -= series.TotalSize;
            patient.NumberOfSeries--;
            patient.NumberOfInstances -= series.NumberOfInstances;
            var modalities = await db.Series.Where(s => s.StudyId == study.Id && s.Id != series.Id && s.Modality != null)
                .Select(s => s.Modality!).Distinct().ToListAsync(ct);
            study.ModalitiesInStudy = modalities.Count == 0 ? null : string.Join('\\', modalities.Order(StringComparer.Ordinal));
            if (study.NumberOfSeries <= 0)
            {
                db.Studies.Remove(study);
                patient.NumberOfStudies--;
                if (patient.NumberOfStudies <= 0) db.Patients.Remove(patient);
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        stability.Forget(seriesId);
        // Rows first, files after: a crash in between leaves files without rows, which the consistency check reports.
        foreach (var key in files)
        {
            try
            {
                storage.Delete(key);
            }
            catch (IOException ex)
            {
                logger.LogWarning(ex, "Could not delete {Key} of deleted series {SeriesInstanceUid}", key, seriesInstanceUid);
            }
        }
        logger.LogInformation("Deleted series {SeriesInstanceUid} ({Count} instances)", seriesInstanceUid, files.Count);
        return true;
    }

    public async Task<ReindexReport> ReindexAsync(string? project = null, CancellationToken ct = default)
    {
        var (target, error) = await projects.ResolveIngestTargetAsync(new IngestContext { Project = project }, ct);
        if (target is null) throw new InvalidOperationException(error);

        HashSet<string> indexed;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            indexed = (await db.Instances.AsNoTracking().Select(i => i.StoragePath).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);

        int scanned = 0, added = 0, already = 0;
        var unreadable = new List<string>();
        var context = new IngestContext { Source = IngestSource.Reindex };
        var keys = storage.EnumerateKeys().Where(ArchiveLayout.IsInstanceKey);
        // Several files in flight, so the writer gets batches.
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(4, Environment.ProcessorCount * 2), CancellationToken = ct }, async (key, token) =>
        {
            Interlocked.Increment(ref scanned);
            if (indexed.Contains(key))
            {
                Interlocked.Increment(ref already);
                return;
            }
            try
            {
                string hash;
                long size;
                DicomFile file;
                await using (var stream = storage.OpenRead(key))
                {
                    (hash, size) = await ContentHasher.HashAsync(stream, token);
                    stream.Position = 0;
                    file = DicomReader.ReadFile(stream, ParseOptions, (stream as FileStream)?.Name);
                }
                var (record, reason) = IndexAttributes.Extract(file);
                if (record is null) throw new DicomException(reason!);
                var source = file.FileMetaInfo.GetString(DicomTags.SourceApplicationEntityTitle);
                var received = storage is FileSystemArchiveStorage fs ? File.GetLastWriteTimeUtc(fs.PathOf(key)) : DateTime.UtcNow;
                var outcome = await writer.WriteAsync(IndexWriteRequest.NewInstance(record, file.Dataset, key, size, hash,
                    context with { CallingAE = source.Length > 0 ? source : null }, target.ProjectId, null, receivedAt: received), token);
                Interlocked.Increment(ref outcome.Status == IndexWriteStatus.Inserted ? ref added : ref already);
            }
            catch (Exception ex) when (ex is DicomException or IOException)
            {
                logger.LogWarning(ex, "Re-index: cannot index {Key}", key);
                lock (unreadable) unreadable.Add(key);
            }
        });
        logger.LogInformation("Re-index: {Scanned} files, {Added} indexed, {Already} already indexed, {Unreadable} unreadable", scanned, added, already, unreadable.Count);
        return new ReindexReport(scanned, added, already, unreadable);
    }

    public async Task<ConsistencyReport> CheckConsistencyAsync(CancellationToken ct = default)
    {
        Dictionary<string, (string Uid, long Size)> rows;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            rows = await db.Instances.AsNoTracking().Select(i => new { i.StoragePath, i.SOPInstanceUID, i.FileSize })
                .ToDictionaryAsync(i => i.StoragePath, i => (i.SOPInstanceUID, i.FileSize), StringComparer.Ordinal, ct);

        var filesWithoutRows = new List<string>();
        var sizeMismatches = new List<SizeMismatch>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int files = 0;
        foreach (var key in storage.EnumerateKeys())
        {
            ct.ThrowIfCancellationRequested();
            files++;
            if (!rows.TryGetValue(key, out var row))
            {
                filesWithoutRows.Add(key);
                continue;
            }
            seen.Add(key);
            var length = storage.GetLength(key);
            if (length is { } l && l != row.Size) sizeMismatches.Add(new SizeMismatch(row.Uid, key, row.Size, l));
        }
        var rowsWithoutFiles = rows.Where(r => !seen.Contains(r.Key)).Select(r => new MissingFile(r.Value.Uid, r.Key)).OrderBy(m => m.StoragePath, StringComparer.Ordinal).ToList();
        int staging = storage is FileSystemArchiveStorage fs && Directory.Exists(fs.StagingDir) ? Directory.EnumerateFiles(fs.StagingDir).Count() : 0;
        var report = new ConsistencyReport(files, rows.Count, filesWithoutRows, rowsWithoutFiles, sizeMismatches, staging);
        if (report.IsConsistent) logger.LogInformation("Consistency check: {Files} files, {Rows} rows, consistent", files, rows.Count);
        else logger.LogWarning("Consistency check: {Orphans} files without rows, {Missing} rows without files, {Mismatches} size mismatches",
            filesWithoutRows.Count, rowsWithoutFiles.Count, sizeMismatches.Count);
        return report;
    }
}
