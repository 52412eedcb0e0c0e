using System.Text;
using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.BuiltIn;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Core.Workflows.Events;
using Kaapana.Core.Workflows.Manifest;
using Kaapana.Core.Workflows.Results;
using Kaapana.Core.Workflows.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Workflows.Engine;

/// <summary>
/// Executes one item, called by its job: claims it (only the job of its current dispatch may), waits for a container
/// slot, stages <c>/input</c>, runs the container while writing its log file, brings the results back, and records the
/// outcome. Safe to call again for the same item after a crash: an earlier attempt's outputs are removed first.
/// </summary>
public sealed class RunItemExecutor(
    IDbContextFactory<KaapanaDbContext> dbFactory,
    IContainerRunner runner,
    InputStager stager,
    OutputCollector collector,
    ContainerSlots slots,
    RunningItems running,
    WorkflowRuns runs,
    IRunItemQueue queue,
    WorkflowEngineState engine,
    WorkflowPaths paths,
    RunEvents events,
    BuiltInItemRunner builtIns,
    IOptions<WorkflowOptions> options,
    ILogger<RunItemExecutor> logger)
{
    private const int StderrLinesInError = 20;

    /// <param name="shutdown">The job's token: cancelled when the server stops. The item then stays Running and is requeued at the next start.</param>
    public async Task ExecuteAsync(long itemId, int dispatch, CancellationToken shutdown)
    {
        await engine.Ready.WaitAsync(shutdown);
        var now = DateTime.UtcNow;
        await using (var db = await dbFactory.CreateDbContextAsync(shutdown))
        {
            int claimed = await db.RunItems.Where(i => i.Id == itemId && i.Dispatch == dispatch && i.State == WorkState.Queued)
                .ExecuteUpdateAsync(u => u.SetProperty(i => i.State, WorkState.Running).SetProperty(i => i.Attempt, i => i.Attempt + 1)
                    .SetProperty(i => i.StartedAt, now).SetProperty(i => i.EndedAt, (DateTime?)null).SetProperty(i => i.Error, (string?)null)
                    .SetProperty(i => i.ExitCode, (long?)null).SetProperty(i => i.ContainerId, (string?)null), shutdown);
            if (claimed == 0)
            {
                logger.LogDebug("Item {Item} dispatch {Dispatch}: nothing to do (stale, cancelled or already claimed)", itemId, dispatch);
                return;
            }
        }
        var cts = running.Register(itemId);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(shutdown);
            var item = await db.RunItems.AsNoTracking().FirstAsync(i => i.Id == itemId, shutdown);
            var run = await db.WorkflowRuns.AsNoTracking().FirstAsync(r => r.Id == item.RunId, shutdown);
            events.Publish(new ItemStateChanged(run.Id, item.Id, WorkState.Running, item.Attempt));
            await runs.RollUpAsync(run.Id, shutdown);
            // Built-in algorithms run in-process (no container, no slot); everything around them is the same.
            var outcome = BuiltInWorkflows.IsBuiltIn(run)
                ? await builtIns.ExecuteAsync(run, item, cts.Token, shutdown) is { } b ? new Outcome(b.State, b.Error, LogPath: b.LogPath) : null
                : await ExecuteClaimedAsync(run, item, cts.Token, shutdown);
            if (outcome is null) return; // shutting down: left Running for the next start
            await FinishAsync(run, item, dispatch, outcome, shutdown);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            logger.LogInformation("Item {Item}: server stopping, left for the next start", itemId);
        }
        finally
        {
            running.Unregister(itemId, cts);
        }
    }

    private sealed record Outcome(WorkState State, string? Error, long? ExitCode = null, string? ContainerId = null, string? LogPath = null);

    private async Task<Outcome?> ExecuteClaimedAsync(WorkflowRun run, RunItem item, CancellationToken userCancel, CancellationToken shutdown)
    {
        var manifest = ManifestParser.Parse(run.ManifestJson).Manifest!;
        using var both = CancellationTokenSource.CreateLinkedTokenSource(userCancel, shutdown);
        var ct = both.Token;
        var workDir = paths.WorkDir(run.Id, item.Id);
        var logFile = paths.LogFile(run.Id, item.Id, item.Attempt);
        try
        {
            using var slot = await slots.AcquireAsync(manifest.Resources.Gpus > 0, ct);
            await collector.RemovePreviousOutputsAsync(item, ct);
            var inputDir = Path.Combine(workDir, "input");
            var outputDir = Path.Combine(workDir, "output");
            if (Directory.Exists(outputDir)) Directory.Delete(outputDir, recursive: true);
            var staged = await stager.StageAsync(run, item, inputDir, ct);
            var parameters = JsonNode.Parse(run.ParametersJson)!.AsObject();
            var spec = new ContainerRunSpec(run.ImageDigest, run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                item.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), inputDir, outputDir)
            {
                Environment = ParameterValues.ToEnvironment(parameters),
                Resources = new ContainerResources(manifest.Resources.Cpu, manifest.Resources.MemoryMb * 1024L * 1024L,
                    manifest.Resources.ShmMb * 1024L * 1024L, manifest.Resources.Gpus),
                NetworkAccess = manifest.Network,
                Timeout = manifest.Resources.TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : null,
            };
            Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
            ContainerRunResult result;
            await using (var log = new LogFileWriter(logFile, options.Value.MaxLogFileBytes))
            {
                // Live viewers get every line as it arrives, the same text the log file gets.
                async ValueTask NoteAsync(string note)
                {
                    events.Publish(new ItemLogLine(run.Id, item.Id, item.Attempt, false, "[kaapana] " + note));
                    await log.WriteNoteAsync(note);
                }
                await NoteAsync($"run {run.Id} item {item.Id} ({item.ScopeKey}) attempt {item.Attempt}: {item.InstanceCount} instances staged ({staged.Linked} linked, {staged.Copied} copied), image {run.ImageDigest}");
                result = await runner.RunAsync(spec, (line, _) =>
                {
                    events.Publish(new ItemLogLine(run.Id, item.Id, item.Attempt, line.Stream == ContainerLogStream.Stderr, line.Text));
                    return log.WriteAsync(line);
                }, ct);
                await NoteAsync($"container {Short(result.ContainerId)} ended: {result.Outcome}, exit code {result.ExitCode?.ToString() ?? "none"}{(result.OutOfMemory ? ", out of memory" : "")}; {result.Logs.TotalLines} lines, {result.Logs.TotalBytes} bytes");
            }
            var logPath = paths.Relative(logFile);
            switch (result.Outcome)
            {
                case ContainerOutcome.Succeeded:
                    var collected = await collector.CollectAsync(run, item, manifest, outputDir, shutdown);
                    return collected.Error is null
                        ? new Outcome(WorkState.Succeeded, null, result.ExitCode, result.ContainerId, logPath)
                        : new Outcome(WorkState.Failed, "outputs rejected: " + collected.Error, result.ExitCode, result.ContainerId, logPath);
                case ContainerOutcome.Failed:
                    var stderr = result.Logs.Stderr.TakeLast(StderrLinesInError).Select(l => l.Text).ToList();
                    var error = new StringBuilder($"exited with code {result.ExitCode?.ToString() ?? "unknown"}");
                    if (result.OutOfMemory) error.Append(" (killed: out of memory)");
                    if (stderr.Count > 0) error.Append("; stderr: ").Append(string.Join('\n', stderr));
                    return new Outcome(WorkState.Failed, error.ToString(), result.ExitCode, result.ContainerId, logPath);
                case ContainerOutcome.TimedOut:
                    return new Outcome(WorkState.TimedOut, $"killed after the timeout of {spec.Timeout?.TotalSeconds.ToString() ?? "the default"} s", null, result.ContainerId, logPath);
                default:
                    return shutdown.IsCancellationRequested ? null : new Outcome(WorkState.Cancelled, "cancelled", null, result.ContainerId, logPath);
            }
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException) when (userCancel.IsCancellationRequested)
        {
            return new Outcome(WorkState.Cancelled, "cancelled before its container started");
        }
        catch (ContainerEngineException e)
        {
            return new Outcome(WorkState.Failed, "container engine: " + e.Message);
        }
        catch (InputMissingException e)
        {
            return new Outcome(WorkState.Failed, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Run {Run} item {Item} failed in the engine", run.Id, item.Id);
            return new Outcome(WorkState.Failed, $"engine error: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            WorkFolderCleanup.RemoveUnlessKept(workDir, options.Value, shutdown, logger);
        }
    }

    private async Task FinishAsync(WorkflowRun run, RunItem item, int dispatch, Outcome outcome, CancellationToken ct)
    {
        var manifest = ManifestParser.Parse(run.ManifestJson).Manifest!;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.RunItems.FirstAsync(i => i.Id == item.Id, ct);
        if (row.Dispatch != dispatch || row.State != WorkState.Running) return; // cancelled or redispatched meanwhile
        row.ExitCode = outcome.ExitCode;
        row.ContainerId = outcome.ContainerId;
        row.LogPath = outcome.LogPath ?? row.LogPath;
        row.Error = outcome.Error;
        row.EndedAt = DateTime.UtcNow;
        var cancelRequested = await db.WorkflowRuns.Where(r => r.Id == run.Id).Select(r => r.CancelRequested).FirstAsync(ct);
        if (outcome.State is WorkState.Failed or WorkState.TimedOut && row.Attempt <= manifest.Retries && !cancelRequested)
        {
            logger.LogInformation("Run {Run} item {Item}: attempt {Attempt} {State} ({Error}); retrying", run.Id, item.Id, row.Attempt, outcome.State, outcome.Error);
            row.State = WorkState.Queued;
            row.Dispatch++;
            await db.SaveChangesAsync(ct);
            row.JobId = queue.Enqueue(row.Id, row.Dispatch);
        }
        else
        {
            row.State = outcome.State;
            logger.LogInformation("Run {Run} item {Item}: {State}{Error}", run.Id, item.Id, outcome.State, outcome.Error is null ? "" : " - " + outcome.Error);
        }
        await db.SaveChangesAsync(ct);
        events.Publish(new ItemStateChanged(run.Id, item.Id, row.State, row.Attempt, row.ExitCode, row.Error));
        await runs.RollUpAsync(run.Id, ct);
    }

    private static string Short(string id) => id.Length > 12 ? id[..12] : id;
}
