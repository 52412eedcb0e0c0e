using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Audit;

/// <summary>
/// Retention of the audit trail: deletes entries older than <see cref="AuditOptions.Retention"/>, shortly after start and then
/// every <see cref="AuditOptions.PurgeInterval"/> (daily by default). The purge itself is recorded as an entry.
/// </summary>
public sealed class AuditPurge(IDbContextFactory<KaapanaDbContext> dbFactory, IAuditTrail audit, IOptions<AuditOptions> options,
    ILogger<AuditPurge> logger, TimeProvider? time = null) : BackgroundService
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Deletes the entries older than the retention before <paramref name="now"/>; returns how many.</summary>
    public async Task<int> PurgeAsync(DateTime now, CancellationToken ct = default)
    {
        var retention = options.Value.Retention;
        if (retention <= TimeSpan.Zero) return 0;
        var cutoff = now.ToUniversalTime() - retention;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        int deleted = await db.AuditEntries.Where(e => e.At < cutoff).ExecuteDeleteAsync(ct);
        if (deleted > 0)
        {
            logger.LogInformation("Audit trail: {Count} entries older than {Cutoff:o} deleted (retention {Retention})", deleted, cutoff, retention);
            audit.Record(new AuditEvent("system", AuditActions.AuditPurged, null, AuditOutcomes.Success, Details: new { deleted, cutoff, retention = retention.ToString() }));
        }
        return deleted;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.PurgeInterval;
        if (interval <= TimeSpan.Zero) return;
        try
        {
            // Not at once: start-up (migrations, the DICOM listener) comes first.
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, interval.TotalSeconds)), _time, stoppingToken);
            using var timer = new PeriodicTimer(interval, _time);
            do
            {
                try
                {
                    await PurgeAsync(_time.GetUtcNow().UtcDateTime, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Audit purge failed; trying again in {Interval}", interval);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
