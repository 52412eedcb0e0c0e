using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Core.Workflows.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Workflows.Engine;

/// <summary>
/// Recovery at start-up, before any item job may start: removes this server's containers left by a crash (none of its
/// items runs yet, so every one is an orphan), and hands every item of an unfinished run that was Running or Queued to the
/// job queue again under a new dispatch number, so exactly one job executes it and stale jobs do nothing.
/// </summary>
public sealed class WorkflowStartup(
    IDbContextFactory<KaapanaDbContext> dbFactory,
    IContainerRunner runner,
    IRunItemQueue queue,
    WorkflowRuns runs,
    WorkflowEngineState engine,
    ILogger<WorkflowStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var status = await runner.PingAsync(cancellationToken);
            if (status.Available)
            {
                var removed = await runner.ReconcileAsync(new HashSet<string>(), cancellationToken);
                if (removed.Count > 0)
                    logger.LogWarning("Removed {Count} orphan containers of an earlier server run: {Containers}", removed.Count,
                        string.Join(", ", removed.Select(c => $"run {c.RunId} item {c.ItemId}")));
            }
            else
            {
                logger.LogWarning("Container engine unavailable at {Endpoint} ({Error}): workflow runs will fail until it is reachable", status.Endpoint, status.Error);
            }

            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var items = await db.RunItems.Where(i => i.State == WorkState.Running || i.State == WorkState.Queued).ToListAsync(cancellationToken);
            var runIds = items.Select(i => i.RunId).Distinct().ToList();
            var cancelled = (await db.WorkflowRuns.Where(r => runIds.Contains(r.Id) && r.CancelRequested).Select(r => r.Id).ToListAsync(cancellationToken)).ToHashSet();
            foreach (var item in items)
            {
                item.Dispatch++;
                if (cancelled.Contains(item.RunId))
                {
                    // Its run was being cancelled when the server stopped: finish that instead of running it again.
                    item.State = WorkState.Cancelled;
                    item.EndedAt = DateTime.UtcNow;
                    continue;
                }
                if (item.State == WorkState.Running) logger.LogInformation("Item {Item} of run {Run} was running when the server stopped; queued again", item.Id, item.RunId);
                item.State = WorkState.Queued;
            }
            await db.SaveChangesAsync(cancellationToken);
            foreach (var item in items.Where(i => i.State == WorkState.Queued)) item.JobId = queue.Enqueue(item.Id, item.Dispatch);
            await db.SaveChangesAsync(cancellationToken);
            foreach (var runId in runIds) await runs.RollUpAsync(runId, cancellationToken);
        }
        catch (ContainerEngineException e)
        {
            logger.LogWarning(e, "Could not reconcile containers at start-up");
        }
        finally
        {
            engine.SetReady();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
