using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Engine;
using Kaapana.Core.Workflows.Results;
using Kaapana.Core.Workflows.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>How a built-in item ended, for <see cref="RunItemExecutor"/> to record like a container's outcome.</summary>
public sealed record BuiltInOutcome(WorkState State, string? Error, string? LogPath);

/// <summary>
/// The built-in branch of item execution: removes what an interrupted attempt kept, writes the item's log file like a
/// container's, calls the <see cref="IBuiltInWorkflow"/>, stores its metrics row, and maps exceptions to item states.
/// Holds no container slot: built-ins run on the job workers alone.
/// </summary>
public sealed class BuiltInItemRunner(
    IDbContextFactory<KaapanaDbContext> dbFactory,
    BuiltInWorkflows builtIns,
    OutputCollector collector,
    WorkflowPaths paths,
    IOptions<WorkflowOptions> options,
    ILogger<BuiltInItemRunner> logger)
{
    /// <returns>Null when the server is stopping (the item stays Running and is queued again at the next start).</returns>
    public async Task<BuiltInOutcome?> ExecuteAsync(WorkflowRun run, RunItem item, CancellationToken userCancel, CancellationToken shutdown)
    {
        var workflow = builtIns.Find(run.AlgorithmName);
        if (workflow is null) return new BuiltInOutcome(WorkState.Failed, $"this server has no built-in algorithm {run.AlgorithmName}", null);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(userCancel, shutdown);
        var ct = both.Token;
        var workDir = paths.WorkDir(run.Id, item.Id);
        var logFile = paths.LogFile(run.Id, item.Id, item.Attempt);
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var logPath = paths.Relative(logFile);
        await using var log = new LogFileWriter(logFile, options.Value.MaxLogFileBytes);
        try
        {
            await collector.RemovePreviousOutputsAsync(item, ct);
            if (Directory.Exists(workDir)) Directory.Delete(workDir, recursive: true);
            Directory.CreateDirectory(workDir);
            var input = WorkflowRuns.ReadInput(item);
            await log.WriteNoteAsync($"run {run.Id} item {item.Id} ({item.ScopeKey}) attempt {item.Attempt}: built-in {run.AlgorithmName} {run.AlgorithmVersion} on {input.Count} instances");
            var context = new BuiltInContext(run, item, input, JsonNode.Parse(run.ParametersJson)!.AsObject(), workDir, note => log.WriteNoteAsync(note));
            var result = await workflow.ExecuteAsync(context, ct);
            if (result.Metrics is { } metrics)
            {
                await using var db = await dbFactory.CreateDbContextAsync(shutdown);
                var json = metrics.ToJsonString();
                await db.RunItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.MetricsJson, json), shutdown);
            }
            await log.WriteNoteAsync(result.Succeeded ? "succeeded" : "failed: " + result.Error);
            return new BuiltInOutcome(result.Succeeded ? WorkState.Succeeded : WorkState.Failed, result.Error, logPath);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException) when (userCancel.IsCancellationRequested)
        {
            await log.WriteNoteAsync("cancelled");
            return new BuiltInOutcome(WorkState.Cancelled, "cancelled", logPath);
        }
        catch (OperationCanceledException e)
        {
            // Neither stop nor cancel: a timeout inside the work (e.g. a peer that stopped answering) fails the item.
            await log.WriteNoteAsync("error: " + e.Message);
            return new BuiltInOutcome(WorkState.Failed, $"{run.AlgorithmName}: {e.Message}", logPath);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Run {Run} item {Item}: built-in {Name} failed", run.Id, item.Id, run.AlgorithmName);
            await log.WriteNoteAsync($"error: {e.GetType().Name}: {e.Message}");
            return new BuiltInOutcome(WorkState.Failed, $"{run.AlgorithmName}: {e.GetType().Name}: {e.Message}", logPath);
        }
        finally
        {
            WorkFolderCleanup.RemoveUnlessKept(workDir, options.Value, shutdown, logger);
        }
    }
}
