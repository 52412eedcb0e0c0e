using System.Collections.Concurrent;
using System.Threading.Channels;
using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Ingest;

/// <summary>A series received no instance for the quiet period. Raised again if a late instance reopened it.</summary>
public sealed record SeriesCompleted(long SeriesId, string StudyInstanceUID, string SeriesInstanceUID, string? Modality, int NumberOfInstances, DateTime CompletedAt);

/// <summary>
/// Reacts to completed series (thumbnails, auto-triggered workflows). Every registered handler is called in its own DI
/// scope, one event at a time; an exception is logged and does not stop other handlers or later events.
/// </summary>
public interface ISeriesCompletedHandler
{
    Task HandleAsync(SeriesCompleted completed, CancellationToken ct);
}

/// <summary>In-process subscription to archive events, for code that prefers reading a channel to registering a handler.</summary>
public interface IArchiveEvents
{
    /// <summary>A reader that receives every series completed from now until <paramref name="ct"/> is cancelled.</summary>
    ChannelReader<SeriesCompleted> SubscribeSeriesCompleted(CancellationToken ct);
}

/// <summary>
/// Decides when a series is complete: the index writer reports every series it wrote to; a series that then hears
/// nothing for <see cref="ArchiveOptions.SeriesQuietPeriod"/> is marked complete in the index and announced. Series left
/// incomplete by a previous run are watched again from startup.
/// </summary>
public sealed class SeriesStabilityMonitor : BackgroundService, IArchiveEvents
{
    private readonly ConcurrentDictionary<long, (string Uid, DateTime LastReceivedAt, long Seen)> _open = new();
    private readonly ConcurrentDictionary<Channel<SeriesCompleted>, byte> _subscribers = new();
    private readonly IDbContextFactory<KaapanaDbContext> _dbFactory;
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger<SeriesStabilityMonitor> _logger;
    private readonly TimeSpan _quiet;
    private readonly TimeProvider _time;

    public SeriesStabilityMonitor(IDbContextFactory<KaapanaDbContext> dbFactory, IServiceScopeFactory scopes, IOptions<KaapanaOptions> options,
        ILogger<SeriesStabilityMonitor> logger, TimeProvider? time = null)
    {
        _dbFactory = dbFactory;
        _scopes = scopes;
        _logger = logger;
        _quiet = options.Value.Archive.SeriesQuietPeriod;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Series currently waiting for their quiet period.</summary>
    public int OpenSeriesCount => _open.Count;

    /// <summary>Called by the index writer after it committed instances of a series (at <paramref name="lastReceivedAt"/>, the row's value).</summary>
    public void Touch(long seriesId, string seriesUid, DateTime lastReceivedAt) =>
        _open[seriesId] = (seriesUid, lastReceivedAt, _time.GetTimestamp());

    /// <summary>Stops watching a series (it was deleted).</summary>
    public void Forget(long seriesId) => _open.TryRemove(seriesId, out _);

    public ChannelReader<SeriesCompleted> SubscribeSeriesCompleted(CancellationToken ct)
    {
        var channel = Channel.CreateUnbounded<SeriesCompleted>(new UnboundedChannelOptions { SingleReader = true });
        _subscribers[channel] = 0;
        ct.Register(() =>
        {
            _subscribers.TryRemove(channel, out _);
            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using (var db = await _dbFactory.CreateDbContextAsync(stoppingToken).ConfigureAwait(false))
            {
                foreach (var s in await db.Series.AsNoTracking().Where(s => !s.IsComplete)
                             .Select(s => new { s.Id, s.SeriesInstanceUID, s.LastReceivedAt }).ToListAsync(stoppingToken).ConfigureAwait(false))
                    _open.TryAdd(s.Id, (s.SeriesInstanceUID, s.LastReceivedAt, _time.GetTimestamp()));
            }

            var tick = TimeSpan.FromTicks(Math.Clamp(_quiet.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
            using var timer = new PeriodicTimer(tick, _time);
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await CompleteQuietSeriesAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogError(ex, "Series stability check failed; retrying at the next tick");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var channel in _subscribers.Keys) channel.Writer.TryComplete();
        }
    }

    private async Task CompleteQuietSeriesAsync(CancellationToken ct)
    {
        var due = _open.Where(e => _time.GetElapsedTime(e.Value.Seen) >= _quiet).ToList();
        foreach (var entry in due)
        {
            // A newer touch replaced the entry: then it is not due, and stays.
            if (!_open.TryRemove(entry)) continue;
            var (uid, lastReceivedAt, _) = entry.Value;
            var now = DateTime.UtcNow;
            SeriesCompleted? completed;
            await using (var db = await _dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false))
            {
                // Guarded by LastReceivedAt: an instance committed since (which reopened the series) wins.
                int changed = await db.Series.Where(s => s.Id == entry.Key && s.LastReceivedAt <= lastReceivedAt && !s.IsComplete)
                    .ExecuteUpdateAsync(u => u.SetProperty(s => s.IsComplete, true).SetProperty(s => s.CompletedAt, now), ct).ConfigureAwait(false);
                if (changed == 0) continue;
                completed = await db.Series.AsNoTracking().Where(s => s.Id == entry.Key)
                    .Select(s => new SeriesCompleted(s.Id, s.Study.StudyInstanceUID, s.SeriesInstanceUID, s.Modality, s.NumberOfInstances, now))
                    .FirstOrDefaultAsync(ct).ConfigureAwait(false);
            }
            if (completed is null) continue;
            _logger.LogInformation("Series {SeriesInstanceUID} complete ({Count} instances)", uid, completed.NumberOfInstances);
            await PublishAsync(completed, ct).ConfigureAwait(false);
        }
    }

    private async Task PublishAsync(SeriesCompleted completed, CancellationToken ct)
    {
        foreach (var channel in _subscribers.Keys) channel.Writer.TryWrite(completed);
        await using var scope = _scopes.CreateAsyncScope();
        foreach (var handler in scope.ServiceProvider.GetServices<ISeriesCompletedHandler>())
        {
            try
            {
                await handler.HandleAsync(completed, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                _logger.LogError(ex, "{Handler} failed for series {SeriesInstanceUID}", handler.GetType().Name, completed.SeriesInstanceUID);
            }
        }
    }
}
