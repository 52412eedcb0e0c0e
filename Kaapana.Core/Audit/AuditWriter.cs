using System.Text.Json;
using System.Threading.Channels;
using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Audit;

/// <summary>
/// The audit trail's writer: <see cref="Record"/> puts the entry on a bounded channel (never waits: the DIMSE path and
/// requests must not stall on the database); one loop writes what has queued up in one transaction per batch. On stop the
/// queue is drained. A failed batch is retried once, then logged with its entries (an audit line is never silently lost).
/// </summary>
public sealed class AuditWriter : BackgroundService, IAuditTrail
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Channel<AuditEntry> _queue;
    private readonly IDbContextFactory<KaapanaDbContext> _dbFactory;
    private readonly AuditOptions _options;
    private readonly ILogger<AuditWriter> _logger;
    private readonly TimeProvider _time;
    private long _dropped;

    public AuditWriter(IDbContextFactory<KaapanaDbContext> dbFactory, IOptions<AuditOptions> options, ILogger<AuditWriter> logger, TimeProvider? time = null)
    {
        _dbFactory = dbFactory;
        _options = options.Value;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _queue = Channel.CreateBounded<AuditEntry>(new BoundedChannelOptions(Math.Max(1, _options.QueueCapacity))
        {
            SingleReader = false, // the loop, and the drain on stop
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: a full queue refuses instead of waiting
        });
    }

    public void Record(AuditEvent e)
    {
        AuditEntry entry;
        try
        {
            entry = new AuditEntry
            {
                At = (e.At ?? _time.GetUtcNow().UtcDateTime).ToUniversalTime(),
                Actor = Clip(string.IsNullOrEmpty(e.Actor) ? "(unknown)" : e.Actor, AuditEntry.ActorMaxLength)!,
                Action = Clip(e.Action, AuditEntry.ActionMaxLength)!,
                Target = Clip(e.Target, AuditEntry.TargetMaxLength),
                Outcome = Clip(e.Outcome, AuditEntry.OutcomeMaxLength)!,
                SourceAddress = Clip(e.SourceAddress, AuditEntry.SourceMaxLength),
                Details = e.Details is null ? null : JsonSerializer.Serialize(e.Details, Json),
            };
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException)
        {
            _logger.LogError(ex, "Audit entry {Action} by {Actor} on {Target}: details not serialisable; recorded without them", e.Action, e.Actor, e.Target);
            entry = new AuditEntry { At = _time.GetUtcNow().UtcDateTime, Actor = e.Actor, Action = e.Action, Target = e.Target, Outcome = e.Outcome, SourceAddress = e.SourceAddress };
        }
        if (!_queue.Writer.TryWrite(entry))
        {
            long n = Interlocked.Increment(ref _dropped);
            _logger.LogError("Audit queue full ({Capacity}): entry dropped ({Dropped} so far): {Action} by {Actor} on {Target}",
                _options.QueueCapacity, n, entry.Action, entry.Actor, entry.Target);
        }
    }

    private static string? Clip(string? s, int max) => s is null || s.Length <= max ? s : s[..max];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditEntry>(_options.MaxBatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < _options.MaxBatchSize && _queue.Reader.TryRead(out var e)) batch.Add(e);
                await WriteAsync(batch, CancellationToken.None);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Stops the loop, then writes what is still queued before the host (and the index) goes away; also when the loop never
    /// ran (a host stopped right after start: BackgroundService then skips ExecuteAsync).
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var batch = new List<AuditEntry>(_options.MaxBatchSize);
        while (_queue.Reader.TryRead(out var e))
        {
            batch.Add(e);
            if (batch.Count < _options.MaxBatchSize) continue;
            await WriteAsync(batch, CancellationToken.None);
            batch.Clear();
        }
        if (batch.Count > 0) await WriteAsync(batch, CancellationToken.None);
    }

    private async Task WriteAsync(List<AuditEntry> batch, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = await _dbFactory.CreateDbContextAsync(ct);
                db.AuditEntries.AddRange(batch.Select(e => new AuditEntry
                {
                    At = e.At, Actor = e.Actor, Action = e.Action, Target = e.Target, Outcome = e.Outcome, SourceAddress = e.SourceAddress, Details = e.Details,
                }));
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (Exception ex) when (ex is DbUpdateException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException)
            {
                if (attempt < 2)
                {
                    _logger.LogWarning("Writing {Count} audit entries failed ({Message}); retrying", batch.Count, ex.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(200), _time, ct);
                    continue;
                }
                foreach (var e in batch)
                    _logger.LogError("Audit entry not stored: {At:o} {Actor} {Action} {Target} {Outcome} {Source} {Details}",
                        e.At, e.Actor, e.Action, e.Target, e.Outcome, e.SourceAddress, e.Details);
                _logger.LogError(ex, "Writing {Count} audit entries failed", batch.Count);
                return;
            }
        }
    }
}
