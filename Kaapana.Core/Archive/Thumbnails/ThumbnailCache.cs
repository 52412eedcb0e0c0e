using System.Collections.Concurrent;
using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Retrieve;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Rendering;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Thumbnails;

/// <summary>A cached thumbnail file, or why there is none.</summary>
public sealed record ThumbnailLookup(string? Path, ThumbnailMissing Missing = ThumbnailMissing.None);

public enum ThumbnailMissing
{
    None,
    /// <summary>No series with that UID in the index.</summary>
    UnknownSeries,
    /// <summary>The series has no image that renders (SR, RT structure sets, encapsulated documents, undecodable data).</summary>
    NotAnImage,
}

/// <summary>
/// Series thumbnails (PNG, 256 px box) on disk under <c>&lt;DataDir&gt;/thumbnails/&lt;2 chars&gt;/&lt;SeriesInstanceUID&gt;.png</c>. Made from
/// the middle instance by Instance Number (one file read) when the series completes, or on first request if missing. A
/// series without a renderable image gets a <c>.none</c> marker so it is not retried on every request; completion clears it.
/// </summary>
public sealed class ThumbnailCache(
    IDbContextFactory<KaapanaDbContext> dbFactory, IInstanceRetrieval retrieval, IOptions<KaapanaOptions> options, ILogger<ThumbnailCache> logger)
{
    public const int Size = 256;
    private readonly ConcurrentDictionary<string, Lazy<Task<ThumbnailLookup>>> _inFlight = new(StringComparer.Ordinal);

    public string Root => Path.Combine(options.Value.DataDir, "thumbnails");

    /// <summary>True for strings that can be a UID (digits and dots, ≤ 64): also what keeps request paths out of the file system.</summary>
    public static bool IsUid(string? s) => !string.IsNullOrEmpty(s) && s.Length <= 64 && s.All(c => char.IsAsciiDigit(c) || c == '.');

    public string PathOf(string seriesUid) => Path.Combine(Root, seriesUid[..Math.Min(2, seriesUid.Length)], seriesUid + ".png");

    private string MarkerOf(string seriesUid) => Path.ChangeExtension(PathOf(seriesUid), ".none");

    /// <summary>The cached file, made now if missing.</summary>
    public Task<ThumbnailLookup> GetAsync(string seriesUid, CancellationToken ct = default)
    {
        if (!IsUid(seriesUid)) return Task.FromResult(new ThumbnailLookup(null, ThumbnailMissing.UnknownSeries));
        var path = PathOf(seriesUid);
        if (File.Exists(path)) return Task.FromResult(new ThumbnailLookup(path));
        if (File.Exists(MarkerOf(seriesUid))) return Task.FromResult(new ThumbnailLookup(null, ThumbnailMissing.NotAnImage));
        return GenerateOnceAsync(seriesUid, ct);
    }

    /// <summary>Makes the thumbnail again (the series changed), replacing the cached file or marker.</summary>
    public Task<ThumbnailLookup> RegenerateAsync(string seriesUid, CancellationToken ct = default)
    {
        if (!IsUid(seriesUid)) return Task.FromResult(new ThumbnailLookup(null, ThumbnailMissing.UnknownSeries));
        File.Delete(MarkerOf(seriesUid));
        return GenerateOnceAsync(seriesUid, ct);
    }

    // Concurrent requests for one series (a page of cards asking at once) share one generation.
    private async Task<ThumbnailLookup> GenerateOnceAsync(string seriesUid, CancellationToken ct)
    {
        var lazy = _inFlight.GetOrAdd(seriesUid, uid => new Lazy<Task<ThumbnailLookup>>(() => Task.Run(() => GenerateAsync(uid, CancellationToken.None))));
        try
        {
            return await lazy.Value.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompleted) _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<ThumbnailLookup>>>(seriesUid, lazy));
        }
    }

    private async Task<ThumbnailLookup> GenerateAsync(string seriesUid, CancellationToken ct)
    {
        StoredInstance? instance;
        await using (var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false))
        {
            var series = await db.Series.AsNoTracking().Where(s => s.SeriesInstanceUID == seriesUid)
                .Select(s => new { s.Id, s.NumberOfInstances, s.Study.StudyInstanceUID }).FirstOrDefaultAsync(ct).ConfigureAwait(false);
            if (series is null) return new ThumbnailLookup(null, ThumbnailMissing.UnknownSeries);
            var sop = await SeriesDetailQueries.RepresentativeAsync(db, series.Id, series.NumberOfInstances, ct).ConfigureAwait(false);
            if (sop is null) return new ThumbnailLookup(null, ThumbnailMissing.UnknownSeries);
            var found = await retrieval.FindAsync(new RetrieveScope(series.StudyInstanceUID, seriesUid, sop), ct).ConfigureAwait(false);
            instance = found.Found ? found.Instances[0] : null;
        }
        if (instance is null) return new ThumbnailLookup(null, ThumbnailMissing.UnknownSeries);

        byte[] png;
        try
        {
            var file = retrieval.Read(instance);
            var pixelData = DicomPixelData.Create(file);
            var image = DicomRenderer.Render(pixelData, new RenderOptions { Frame = (pixelData.FrameCount - 1) / 2, MaxWidth = Size, MaxHeight = Size });
            png = ImageEncoder.EncodePng(image, zlibLevel: 6);
        }
        catch (Exception ex) when (ex is DicomException or NotSupportedException or InvalidOperationException or IOException or ArgumentException)
        {
            logger.LogInformation("No thumbnail for series {SeriesInstanceUID}: {Reason}", seriesUid, ex.Message);
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(MarkerOf(seriesUid))!);
                await File.WriteAllTextAsync(MarkerOf(seriesUid), ex.Message, ct).ConfigureAwait(false);
            }
            catch (IOException markerError)
            {
                // The marker only saves a retry; a series (or data folder) deleted meanwhile must not turn this into an error.
                logger.LogDebug("No marker for series {SeriesInstanceUID}: {Reason}", seriesUid, markerError.Message);
            }
            return new ThumbnailLookup(null, ThumbnailMissing.NotAnImage);
        }

        var path = PathOf(seriesUid);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written aside and renamed: a reader never sees half a PNG.
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(temp, png, ct).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
        return new ThumbnailLookup(path);
    }
}
