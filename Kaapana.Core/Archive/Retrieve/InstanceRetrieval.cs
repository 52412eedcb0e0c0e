using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Storage;
using Kaapana.Dicom;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Retrieve;

/// <summary>An archived instance as the index knows it: enough to stream its file or read it again.</summary>
public sealed record StoredInstance(
    string StudyInstanceUID, string SeriesInstanceUID, string SOPInstanceUID, string SOPClassUID, string TransferSyntaxUID,
    int? SeriesNumber, int? InstanceNumber, int? NumberOfFrames, int? Rows, string StorageKey, long FileSize);

/// <summary>
/// Which instances to retrieve: a study, a series of it, or one instance of that series (PS3.18 10.4.1 targets), seen from
/// <paramref name="Projects"/> (a caller's <see cref="AccessScope.ProjectsWith"/> Read; null: every project, for the server's
/// own work). Outside those projects a series does not exist: a study shows only its visible series.
/// </summary>
public sealed record RetrieveScope(string StudyInstanceUID, string? SeriesInstanceUID = null, string? SOPInstanceUID = null, int[]? Projects = null);

/// <summary>The instances of a scope in series and instance order, or why there are none (which UID was not found where).</summary>
public sealed record RetrieveResult(IReadOnlyList<StoredInstance> Instances, string? NotFound)
{
    public bool Found => NotFound is null;
}

/// <summary>
/// Read side of the archive for retrieval (WADO-RS, rendering): finds the instances of a study, series or instance by UID
/// in the index and opens or parses their files. Every UID must belong to the one above it: a series UID of another study
/// is "not found", as PS3.18 requires. A UID outside the scope's projects is not found in exactly the words a UID that does
/// not exist gets, and no message repeats a UID (an answer never confirms what the caller guessed).
/// </summary>
public interface IInstanceRetrieval
{
    Task<RetrieveResult> FindAsync(RetrieveScope scope, CancellationToken ct = default);

    /// <summary>The stored bytes of the file, unchanged. Throws <see cref="FileNotFoundException"/> when the file is gone.</summary>
    Stream OpenRead(StoredInstance instance);

    /// <summary>
    /// Parses the file. Values longer than <paramref name="largeValueThreshold"/> bytes stay in the file and are read on
    /// access (when the storage is a file system); <paramref name="stopBeforePixelData"/> reads the header only.
    /// </summary>
    DicomFile Read(StoredInstance instance, bool stopBeforePixelData = false, long largeValueThreshold = 64 * 1024);
}

public sealed class InstanceRetrieval(IDbContextFactory<KaapanaDbContext> dbFactory, IArchiveStorage storage) : IInstanceRetrieval
{
    public async Task<RetrieveResult> FindAsync(RetrieveScope scope, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var q = db.Instances.AsNoTracking().InProjects(db, scope.Projects).Where(i => i.Series.Study.StudyInstanceUID == scope.StudyInstanceUID);
        if (scope.SeriesInstanceUID is { } se) q = q.Where(i => i.Series.SeriesInstanceUID == se);
        if (scope.SOPInstanceUID is { } sop) q = q.Where(i => i.SOPInstanceUID == sop);
        var list = await q
            .OrderBy(i => i.Series.SeriesNumber).ThenBy(i => i.Series.Id).ThenBy(i => i.InstanceNumber).ThenBy(i => i.Id)
            .Select(i => new StoredInstance(i.Series.Study.StudyInstanceUID, i.Series.SeriesInstanceUID, i.SOPInstanceUID, i.SOPClassUID,
                i.TransferSyntaxUID, i.Series.SeriesNumber, i.InstanceNumber, i.NumberOfFrames, i.Rows, i.StoragePath, i.FileSize))
            .ToListAsync(ct).ConfigureAwait(false);
        if (list.Count > 0) return new RetrieveResult(list, null);
        return new RetrieveResult([], await WhatIsMissingAsync(db, scope, ct).ConfigureAwait(false));
    }

    private static async Task<string> WhatIsMissingAsync(KaapanaDbContext db, RetrieveScope scope, CancellationToken ct)
    {
        if (!await db.Studies.InProjects(db, scope.Projects).AnyAsync(s => s.StudyInstanceUID == scope.StudyInstanceUID, ct).ConfigureAwait(false))
            return "The study is not in the archive.";
        if (scope.SeriesInstanceUID is { } se
            && !await db.Series.InProjects(db, scope.Projects).AnyAsync(s => s.SeriesInstanceUID == se && s.Study.StudyInstanceUID == scope.StudyInstanceUID, ct)
                .ConfigureAwait(false))
            return "The series is not in this study.";
        return scope.SOPInstanceUID is not null ? "The instance is not in this series." : "There are no instances here.";
    }

    public Stream OpenRead(StoredInstance instance)
    {
        try
        {
            return storage.OpenRead(instance.StorageKey);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new FileNotFoundException($"The file of instance {instance.SOPInstanceUID} is missing from the archive.", instance.StorageKey, ex);
        }
    }

    public DicomFile Read(StoredInstance instance, bool stopBeforePixelData = false, long largeValueThreshold = 64 * 1024)
    {
        var options = new DicomReadOptions { StopBeforePixelData = stopBeforePixelData, LargeValueThreshold = largeValueThreshold };
        using var stream = OpenRead(instance);
        // A path lets the reader leave large values (pixel data) in the file; other storages are parsed from the stream.
        var path = storage is FileSystemArchiveStorage fs ? fs.PathOf(instance.StorageKey) : null;
        return DicomReader.ReadFile(stream, path is null ? options with { LargeValueThreshold = null } : options, path);
    }
}
