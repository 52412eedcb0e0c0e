using System.Text.Json;
using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Workflows.Engine;
using Kaapana.Core.Workflows.Events;
using Kaapana.Core.Workflows.Manifest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Workflows.Runs;

/// <summary>
/// The engine's small command surface: create a run (expand its items from frozen input and queue them), cancel, retry
/// failed items, re-run with the same settings, and the rolled-up state. Execution itself is <see cref="RunItemExecutor"/>.
/// </summary>
public sealed class WorkflowRuns(
    IDbContextFactory<KaapanaDbContext> dbFactory,
    IProjectCatalog catalog,
    IRunItemQueue queue,
    RunningItems running,
    ContainerSlots slots,
    RunEvents events,
    BuiltIn.BuiltInWorkflows builtIns,
    ILogger<WorkflowRuns> logger)
{
    private const int ChunkSize = 500;

    // One roll-up of a run at a time. Two workers finishing items of one run together each read the item states and then
    // write the run's: unserialised, the one that read first could write last and leave a finished run "Running".
    private readonly SemaphoreSlim[] _rollUpLocks = [.. Enumerable.Range(0, 32).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>An instance of a run's input: [study, series, sop] as stored in <see cref="RunItem.InputJson"/>.</summary>
    public sealed record InputInstance(string Study, string Series, string Sop);

    public static IReadOnlyList<InputInstance> ReadInput(RunItem item) =>
        JsonSerializer.Deserialize<string[][]>(item.InputJson)!.Select(t => new InputInstance(t[0], t[1], t[2])).ToList();

    public async Task<RunCommandResult> CreateAsync(CreateRunRequest request, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var algorithm = await db.Algorithms.AsNoTracking().FirstOrDefaultAsync(a => a.Id == request.AlgorithmId, ct);
        if (algorithm is null) return RunCommandResult.NotFound($"no algorithm {request.AlgorithmId}");
        if (!algorithm.Enabled) return RunCommandResult.Invalid($"algorithm {algorithm.Name} {algorithm.Version} is disabled");
        var manifest = ManifestParser.Parse(algorithm.ManifestJson).Manifest
            ?? throw new InvalidOperationException($"The stored manifest of algorithm {algorithm.Id} no longer validates.");
        var parameters = ParameterValues.Validate(manifest, request.Parameters);
        if (!parameters.IsValid) return new RunCommandResult(RunCommandOutcome.Invalid, null, [.. parameters.Errors.Select(e => "parameter " + e)]);
        if (manifest.Network && !algorithm.NetworkAllowed)
            return RunCommandResult.Invalid($"{algorithm.Name} asks for network access, which an admin has not allowed (register it with allowNetwork)");
        if (manifest.Resources.Gpus > 0 && slots.GpuSlots == 0)
            return RunCommandResult.Invalid($"{algorithm.Name} needs {manifest.Resources.Gpus} GPU(s) and this server has no GPU slots (Kaapana:Workflows:GpuSlots)");

        // The input, frozen: a dataset version's UID list, or the instances the selected series hold now.
        int projectId;
        List<InputInstance> input;
        string? selectionJson = null;
        var series = request.Series?.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).Distinct().ToList() ?? [];
        if (request.DatasetVersionId is { } versionId)
        {
            if (series.Count > 0) return RunCommandResult.Invalid("give a dataset version or a list of series, not both");
            var version = await db.DatasetVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Id == versionId, ct);
            if (version is null || request.Scope?.Can(version.ProjectId, ProjectPermission.Read) == false) return RunCommandResult.Invalid($"no dataset version {versionId}");
            projectId = version.ProjectId;
            input = await db.DatasetVersionItems.AsNoTracking().Where(i => i.DatasetVersionId == versionId)
                .Select(i => new InputInstance(i.StudyInstanceUID, i.SeriesInstanceUID, i.SOPInstanceUID)).ToListAsync(ct);
        }
        else if (series.Count > 0)
        {
            if (string.IsNullOrWhiteSpace(request.Project)) return RunCommandResult.Invalid("a series selection needs its project");
            var project = await catalog.FindProjectAsync(request.Project, ct);
            if (project is null || request.Scope?.Can(project.Id, ProjectPermission.Read) == false) return RunCommandResult.Invalid($"no project '{request.Project}'");
            projectId = project.Id;
            var inProject = await db.ProjectSeries.AsNoTracking()
                .Where(l => l.ProjectId == projectId && series.Contains(l.Series.SeriesInstanceUID))
                .Select(l => l.Series.SeriesInstanceUID).ToListAsync(ct);
            var missing = series.Except(inProject).ToList();
            if (missing.Count > 0)
                return RunCommandResult.Invalid($"{missing.Count} series are not in project '{request.Project}', e.g. {missing[0]}");
            input = await db.Instances.AsNoTracking().Where(i => series.Contains(i.Series.SeriesInstanceUID))
                .Select(i => new InputInstance(i.Series.Study.StudyInstanceUID, i.Series.SeriesInstanceUID, i.SOPInstanceUID)).ToListAsync(ct);
            selectionJson = JsonSerializer.Serialize(series);
        }
        else
        {
            return RunCommandResult.Invalid("give a dataset version (datasetVersionId) or a list of series (series + project)");
        }

        if (request.Scope is { } scope && !scope.Can(projectId, ProjectPermission.Run))
            return RunCommandResult.Forbidden("running algorithms in this project needs the Researcher role there");

        // Filter by what the manifest accepts; an instance deleted since the freeze makes the input incomplete.
        var facts = new Dictionary<string, (string SopClass, string? Modality)>(StringComparer.Ordinal);
        foreach (var chunk in input.Select(i => i.Sop).Chunk(ChunkSize))
            foreach (var f in await db.Instances.AsNoTracking().Where(i => chunk.Contains(i.SOPInstanceUID))
                         .Select(i => new { i.SOPInstanceUID, i.SOPClassUID, i.Series.Modality }).ToListAsync(ct))
                facts[f.SOPInstanceUID] = (f.SOPClassUID, f.Modality);
        var gone = input.Where(i => !facts.ContainsKey(i.Sop)).ToList();
        if (gone.Count > 0)
            return RunCommandResult.Invalid($"{gone.Count} instances of the input are no longer in the archive, e.g. {gone[0].Sop}");
        var modalities = manifest.Input.Modalities.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var sopClasses = manifest.Input.SopClasses.ToHashSet(StringComparer.Ordinal);
        var accepted = input.Where(i =>
            (modalities.Count == 0 || modalities.Contains(facts[i.Sop].Modality ?? "")) &&
            (sopClasses.Count == 0 || sopClasses.Contains(facts[i.Sop].SopClass))).ToList();
        if (accepted.Count == 0)
            return RunCommandResult.Invalid($"none of the {input.Count} input instances match what {algorithm.Name} accepts" +
                (modalities.Count > 0 ? $" (modalities {string.Join(", ", modalities)})" : "") +
                (sopClasses.Count > 0 ? $" (SOP classes {string.Join(", ", sopClasses)})" : ""));

        if (algorithm.Kind == AlgorithmKind.BuiltIn)
        {
            if (builtIns.Find(algorithm.Name) is not { } builtIn) return RunCommandResult.Invalid($"this server has no built-in algorithm {algorithm.Name}");
            var launch = new BuiltIn.BuiltInLaunch(parameters.Values!, projectId, request.RequestedBy, request.Scope,
                [.. accepted.Select(i => i.Series).Distinct(StringComparer.Ordinal)]);
            var problems = await builtIn.ValidateAsync(launch, ct);
            if (problems.Count > 0) return new RunCommandResult(RunCommandOutcome.Invalid, null, problems);
            if (await builtIn.ForbiddenAsync(launch, ct) is { } forbidden) return RunCommandResult.Forbidden(forbidden);
        }

        var groups = manifest.Input.Scope switch
        {
            InputScope.Series => accepted.GroupBy(i => i.Series),
            InputScope.Study => accepted.GroupBy(i => i.Study),
            _ => accepted.GroupBy(_ => "dataset"),
        };
        var run = new WorkflowRun
        {
            AlgorithmId = algorithm.Id, AlgorithmName = algorithm.Name, AlgorithmVersion = algorithm.Version, ImageDigest = algorithm.ImageDigest,
            ManifestJson = algorithm.ManifestJson, ParametersJson = parameters.Values!.ToJsonString(), ProjectId = projectId,
            DatasetVersionId = request.DatasetVersionId, SeriesSelectionJson = selectionJson, State = WorkState.Queued,
            CreatedAt = DateTime.UtcNow, RequestedBy = request.RequestedBy, TriggerRuleId = request.TriggerRuleId,
        };
        var items = groups.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => NewItem(g.Key, g.OrderBy(i => i.Series, StringComparer.Ordinal).ThenBy(i => i.Sop, StringComparer.Ordinal).ToList())).ToList();
        if (request.RefusedBecause is { } reason)
        {
            var now = DateTime.UtcNow;
            run.State = WorkState.Failed;
            run.EndedAt = now;
            foreach (var item in items)
            {
                item.State = WorkState.Failed;
                item.Error = reason;
                item.EndedAt = now;
            }
        }
        return await StartAsync(db, run, items, manifest, ct);
    }

    private static RunItem NewItem(string key, IReadOnlyList<InputInstance> instances) => new()
    {
        ScopeKey = key, InputJson = JsonSerializer.Serialize(instances.Select(i => new[] { i.Study, i.Series, i.Sop })),
        InstanceCount = instances.Count, State = WorkState.Queued, Dispatch = 1,
    };

    private async Task<RunCommandResult> StartAsync(KaapanaDbContext db, WorkflowRun run, List<RunItem> items, AlgorithmManifest manifest, CancellationToken ct)
    {
        db.WorkflowRuns.Add(run);
        await db.SaveChangesAsync(ct);
        if (manifest.Outputs.Contains(OutputKind.Dicom))
            run.ResultsDatasetId = (await catalog.CreateDatasetAsync(run.ProjectId, ResultsDatasetName(run),
                $"Derived series of run {run.Id} ({run.AlgorithmName} {run.AlgorithmVersion}).", ct)).Id;
        foreach (var item in items) item.RunId = run.Id;
        db.RunItems.AddRange(items);
        await db.SaveChangesAsync(ct);
        // A crash before every job is enqueued leaves Queued items without a job; start-up dispatches them again.
        foreach (var item in items.Where(i => i.State == WorkState.Queued)) item.JobId = queue.Enqueue(item.Id, item.Dispatch);
        await db.SaveChangesAsync(ct);
        events.Publish(new RunStateChanged(run.Id, run.State));
        logger.LogInformation("Run {Run}: {Algorithm} {Version} on {Items} items{Refused}", run.Id, run.AlgorithmName, run.AlgorithmVersion, items.Count,
            run.State == WorkState.Failed ? " (refused: " + items[0].Error + ")" : "");
        return RunCommandResult.Ok(run.Id);
    }

    public static string ResultsDatasetName(WorkflowRun run) => $"run-{run.Id} {run.AlgorithmName} {run.AlgorithmVersion}";

    /// <summary>Stops the run: queued items are cancelled and their jobs removed, running containers are killed.</summary>
    public async Task<RunCommandResult> CancelAsync(long runId, CancellationToken ct = default, AccessScope? scope = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.WorkflowRuns.FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null) return RunCommandResult.NotFound($"no run {runId}");
        if (Gate(run.ProjectId, runId, scope) is { } refused) return refused;
        if (IsTerminal(run.State) && !await db.RunItems.AnyAsync(i => i.RunId == runId && (i.State == WorkState.Queued || i.State == WorkState.Running), ct))
            return RunCommandResult.Conflict($"run {runId} has ended ({run.State})");
        run.CancelRequested = true;
        await db.SaveChangesAsync(ct);
        var queued = await db.RunItems.Where(i => i.RunId == runId && i.State == WorkState.Queued).Select(i => new { i.Id, i.JobId }).ToListAsync(ct);
        var now = DateTime.UtcNow;
        await db.RunItems.Where(i => i.RunId == runId && i.State == WorkState.Queued).ExecuteUpdateAsync(u => u
            .SetProperty(i => i.State, WorkState.Cancelled).SetProperty(i => i.EndedAt, now).SetProperty(i => i.Dispatch, i => i.Dispatch + 1), ct);
        foreach (var q in queued)
        {
            if (q.JobId is not null) queue.Remove(q.JobId);
            events.Publish(new ItemStateChanged(runId, q.Id, WorkState.Cancelled, 0));
        }
        foreach (var id in await db.RunItems.Where(i => i.RunId == runId && i.State == WorkState.Running).Select(i => i.Id).ToListAsync(ct))
        {
            // Running here: its executor kills the container and records Cancelled. Running nowhere (a stale row): end it now.
            if (!running.Cancel(id)
                && await db.RunItems.Where(i => i.Id == id && i.State == WorkState.Running).ExecuteUpdateAsync(u => u
                    .SetProperty(i => i.State, WorkState.Cancelled).SetProperty(i => i.EndedAt, now).SetProperty(i => i.Dispatch, i => i.Dispatch + 1), ct) > 0)
                events.Publish(new ItemStateChanged(runId, id, WorkState.Cancelled, 0));
        }
        await RollUpAsync(runId, ct);
        logger.LogInformation("Run {Run}: cancel requested ({Queued} queued items cancelled)", runId, queued.Count);
        return RunCommandResult.Ok(runId);
    }

    /// <summary>Queues the run's Failed, TimedOut and Cancelled items again (same run, next attempt).</summary>
    public async Task<RunCommandResult> RetryFailedAsync(long runId, CancellationToken ct = default, AccessScope? scope = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.WorkflowRuns.FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null) return RunCommandResult.NotFound($"no run {runId}");
        if (Gate(run.ProjectId, runId, scope) is { } refused) return refused;
        var items = await db.RunItems.Where(i => i.RunId == runId && (i.State == WorkState.Failed || i.State == WorkState.TimedOut || i.State == WorkState.Cancelled)).ToListAsync(ct);
        if (items.Count == 0) return RunCommandResult.Conflict($"run {runId} has no failed, timed-out or cancelled items");
        run.CancelRequested = false;
        run.EndedAt = null;
        foreach (var item in items)
        {
            item.State = WorkState.Queued;
            item.Dispatch++;
            item.EndedAt = null;
        }
        await db.SaveChangesAsync(ct);
        foreach (var item in items) item.JobId = queue.Enqueue(item.Id, item.Dispatch);
        await db.SaveChangesAsync(ct);
        foreach (var item in items) events.Publish(new ItemStateChanged(runId, item.Id, WorkState.Queued, item.Attempt));
        await RollUpAsync(runId, ct);
        return RunCommandResult.Ok(runId);
    }

    /// <summary>A new run with the same algorithm image, parameters and input items as <paramref name="runId"/>.</summary>
    public async Task<RunCommandResult> RerunAsync(long runId, string? requestedBy = null, CancellationToken ct = default, AccessScope? scope = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var old = await db.WorkflowRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (old is null) return RunCommandResult.NotFound($"no run {runId}");
        if (Gate(old.ProjectId, runId, scope) is { } refused) return refused;
        var manifest = ManifestParser.Parse(old.ManifestJson).Manifest!;
        var items = await db.RunItems.AsNoTracking().Where(i => i.RunId == runId).OrderBy(i => i.Id).ToListAsync(ct);
        var run = new WorkflowRun
        {
            AlgorithmId = old.AlgorithmId, AlgorithmName = old.AlgorithmName, AlgorithmVersion = old.AlgorithmVersion, ImageDigest = old.ImageDigest,
            ManifestJson = old.ManifestJson, ParametersJson = old.ParametersJson, ProjectId = old.ProjectId, DatasetVersionId = old.DatasetVersionId,
            SeriesSelectionJson = old.SeriesSelectionJson, State = WorkState.Queued, CreatedAt = DateTime.UtcNow, RequestedBy = requestedBy ?? old.RequestedBy,
            RerunOf = old.Id,
        };
        return await StartAsync(db, run, [.. items.Select(i => new RunItem
        {
            ScopeKey = i.ScopeKey, InputJson = i.InputJson, InstanceCount = i.InstanceCount, State = WorkState.Queued, Dispatch = 1,
        })], manifest, ct);
    }

    /// <summary>
    /// A command on a run needs Run in its project: a run the caller cannot read answers as a missing one, a readable one
    /// without Run as Forbidden. No scope: an in-process command (the engine, tests of it).
    /// </summary>
    private static RunCommandResult? Gate(int projectId, long runId, AccessScope? scope) =>
        scope?.Can(projectId, ProjectPermission.Read) == false ? RunCommandResult.NotFound($"no run {runId}")
        : scope?.Can(projectId, ProjectPermission.Run) == false ? RunCommandResult.Forbidden("commands on this run need the Researcher role in its project")
        : null;

    public static bool IsTerminal(WorkState state) => state is WorkState.Succeeded or WorkState.Failed or WorkState.Cancelled or WorkState.TimedOut;

    /// <summary>Derives the run's state from its items: active while any is queued or running, else the worst outcome.</summary>
    public async Task<WorkState> RollUpAsync(long runId, CancellationToken ct = default)
    {
        var gate = _rollUpLocks[(int)((ulong)runId % (ulong)_rollUpLocks.Length)];
        await gate.WaitAsync(ct);
        try
        {
            return await RollUpLockedAsync(runId, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<WorkState> RollUpLockedAsync(long runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var counts = await db.RunItems.Where(i => i.RunId == runId).GroupBy(i => i.State).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        int Count(WorkState s) => counts.GetValueOrDefault(s);
        var run = await db.WorkflowRuns.FirstAsync(r => r.Id == runId, ct);
        var anyStarted = Count(WorkState.Running) + Count(WorkState.Succeeded) + Count(WorkState.Failed) + Count(WorkState.TimedOut) > 0;
        WorkState state;
        if (Count(WorkState.Queued) + Count(WorkState.Running) > 0) state = anyStarted ? WorkState.Running : WorkState.Queued;
        else if (Count(WorkState.Cancelled) > 0) state = WorkState.Cancelled;
        else if (Count(WorkState.Failed) > 0) state = WorkState.Failed;
        else if (Count(WorkState.TimedOut) > 0) state = WorkState.TimedOut;
        else state = WorkState.Succeeded;
        run.State = state;
        if (state == WorkState.Running) run.StartedAt ??= DateTime.UtcNow;
        run.EndedAt = IsTerminal(state) ? run.EndedAt ?? DateTime.UtcNow : null;
        await db.SaveChangesAsync(ct);
        events.Publish(new RunStateChanged(runId, state));
        return state;
    }

    /// <summary>The run and its items; null when it does not exist or <paramref name="scope"/> may not read its project.</summary>
    public async Task<(WorkflowRun Run, IReadOnlyList<RunItem> Items)?> GetAsync(long runId, CancellationToken ct = default, AccessScope? scope = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.WorkflowRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null || scope?.Can(run.ProjectId, ProjectPermission.Read) == false) return null;
        return (run, await db.RunItems.AsNoTracking().Where(i => i.RunId == runId).OrderBy(i => i.Id).ToListAsync(ct));
    }

    /// <summary>Item counts per state of each of <paramref name="runIds"/>.</summary>
    public async Task<Dictionary<long, Dictionary<WorkState, int>>> CountItemsAsync(IReadOnlyCollection<long> runIds, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.RunItems.Where(i => runIds.Contains(i.RunId)).GroupBy(i => new { i.RunId, i.State })
            .Select(g => new { g.Key.RunId, g.Key.State, Count = g.Count() }).ToListAsync(ct);
        return rows.GroupBy(r => r.RunId).ToDictionary(g => g.Key, g => g.ToDictionary(r => r.State, r => r.Count));
    }

    /// <summary>The newest runs in <paramref name="projects"/> (<see cref="AccessScope.ProjectsWith"/> of Read; null = every project).</summary>
    public async Task<IReadOnlyList<WorkflowRun>> ListAsync(int limit = 100, CancellationToken ct = default, int[]? projects = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.WorkflowRuns.AsNoTracking();
        if (projects is not null) q = q.Where(r => projects.Contains(r.ProjectId));
        return await q.OrderByDescending(r => r.Id).Take(Math.Clamp(limit, 1, 1000)).ToListAsync(ct);
    }

    /// <summary>The project of a run the scope may read (null: no such run, or invisible).</summary>
    public async Task<int?> VisibleProjectAsync(long runId, AccessScope scope, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var project = await db.WorkflowRuns.AsNoTracking().Where(r => r.Id == runId).Select(r => (int?)r.ProjectId).FirstOrDefaultAsync(ct);
        return project is { } p && scope.Can(p, ProjectPermission.Read) ? p : null;
    }
}
