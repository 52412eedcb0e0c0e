using Kaapana.Core.Archive.Ingest;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Archive.Thumbnails;

/// <summary>
/// Makes a series' thumbnail when the series completes. Reads the completion channel rather than being an
/// <see cref="ISeriesCompletedHandler"/>, so rendering never delays other handlers (workflow triggers).
/// </summary>
public sealed class ThumbnailGenerator(IArchiveEvents events, ThumbnailCache cache, ILogger<ThumbnailGenerator> logger) : BackgroundService
{
    /// <summary>Raised after a thumbnail was (re)made, for pages that show it.</summary>
    public event Action<string>? ThumbnailReady;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = events.SubscribeSeriesCompleted(stoppingToken);
        try
        {
            await foreach (var completed in reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var result = await cache.RegenerateAsync(completed.SeriesInstanceUID, stoppingToken).ConfigureAwait(false);
                    if (result.Path is not null) ThumbnailReady?.Invoke(completed.SeriesInstanceUID);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Thumbnail of series {SeriesInstanceUID} failed", completed.SeriesInstanceUID);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
