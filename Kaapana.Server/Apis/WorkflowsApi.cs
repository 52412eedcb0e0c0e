using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Audit;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Core.Workflows.Engine;
using Kaapana.Core.Workflows.Results;
using Kaapana.Core.Workflows.Runs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>
/// REST API of the workflow engine: algorithms, runs, items, logs, metrics, artifacts and provenance. Commands that need
/// the container engine answer 503 with the reason when it is unreachable; everything else works without it.
/// </summary>
public static class WorkflowsApi
{
    public sealed record EngineStatusDto(bool Available, string Endpoint, string? Version, string? Error);

    /// <param name="Manifest">The manifest as a JSON object; omit it to use the image's org.kaapana.algorithm label.</param>
    public sealed record RegisterAlgorithmDto(string? Image, JsonElement? Manifest, bool AllowNetwork = false);

    public sealed record AlgorithmDto(int Id, string Name, string Version, string ImageReference, string ImageDigest, bool Enabled,
        bool NetworkAllowed, bool ManifestFromImage, DateTime RegisteredAt, JsonNode? Manifest, AlgorithmKind Kind);

    public sealed record CreateRunDto(int AlgorithmId, JsonObject? Parameters, long? DatasetVersionId, IReadOnlyList<string>? Series, string? Project, string? RequestedBy);

    public sealed record RunItemDto(long Id, string Key, WorkState State, int InstanceCount, int Attempt, long? ExitCode, string? ContainerId,
        DateTime? StartedAt, DateTime? EndedAt, string? Error, bool HasLog, bool HasMetrics);

    public sealed record RunDto(long Id, int AlgorithmId, string AlgorithmName, string AlgorithmVersion, string ImageDigest, JsonNode? Parameters,
        int ProjectId, long? DatasetVersionId, JsonNode? SeriesSelection, WorkState State, DateTime CreatedAt, DateTime? StartedAt,
        DateTime? EndedAt, string? RequestedBy, int? ResultsDatasetId, long? RerunOf, IReadOnlyDictionary<string, int> ItemStates,
        IReadOnlyList<RunItemDto>? Items, int? TriggerRuleId = null);

    public sealed record ArtifactDto(long Id, long ItemId, string Name, long Size, string Sha256, string Download);

    public sealed record DerivedSeriesDto(string SeriesInstanceUID, long ItemId, int InstanceCount, JsonNode? SourceSeries);

    public sealed record RunResultsDto(IReadOnlyList<DerivedSeriesDto> DerivedSeries, IReadOnlyList<ArtifactDto> Artifacts);

    public static IEndpointRouteBuilder MapWorkflowsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Workflows");
        api.MapGet("/workflows/engine", GetEngineStatus);
        api.MapGet("/algorithms", ListAlgorithms);
        api.MapGet("/algorithms/{id:int}", GetAlgorithm);
        api.MapPost("/algorithms", RegisterAlgorithm);
        api.MapGet("/runs", ListRuns);
        api.MapPost("/runs", CreateRun);
        api.MapGet("/runs/{id:long}", GetRun);
        api.MapPost("/runs/{id:long}/cancel", CancelRun);
        api.MapPost("/runs/{id:long}/retry-failed", RetryFailed);
        api.MapPost("/runs/{id:long}/rerun", Rerun);
        api.MapGet("/runs/{id:long}/items/{itemId:long}/log", GetItemLog);
        api.MapGet("/runs/{id:long}/metrics", GetMetrics);
        api.MapGet("/runs/{id:long}/metrics.csv", GetMetricsCsv);
        api.MapGet("/runs/{id:long}/results", GetResults);
        api.MapGet("/runs/{id:long}/artifacts/{artifactId:long}", DownloadArtifact);
        api.MapGet("/series/{uid}/provenance", GetProvenance);
        return app;
    }

    public static async Task<Ok<EngineStatusDto>> GetEngineStatus(IContainerRunner runner, CancellationToken ct)
    {
        var s = await runner.PingAsync(ct);
        return TypedResults.Ok(new EngineStatusDto(s.Available, s.Endpoint, s.Version, s.Error));
    }

    private static async Task<ProblemHttpResult?> EngineUnavailableAsync(IContainerRunner runner, CancellationToken ct)
    {
        var s = await runner.PingAsync(ct);
        return s.Available ? null : TypedResults.Problem(
            title: "The workflow engine is unavailable: no container engine answers.",
            detail: $"Docker at {s.Endpoint}: {s.Error}", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static AlgorithmDto ToDto(Algorithm a) => new(a.Id, a.Name, a.Version, a.ImageReference, a.ImageDigest, a.Enabled, a.NetworkAllowed,
        a.ManifestFromImage, a.RegisteredAt, JsonNode.Parse(a.ManifestJson), a.Kind);

    public static async Task<Ok<List<AlgorithmDto>>> ListAlgorithms(AlgorithmRegistry registry, CancellationToken ct) =>
        TypedResults.Ok((await registry.ListAsync(ct)).Select(ToDto).ToList());

    public static async Task<Results<Ok<AlgorithmDto>, NotFound>> GetAlgorithm(int id, AlgorithmRegistry registry, CancellationToken ct) =>
        await registry.GetAsync(id, ct) is { } a ? TypedResults.Ok(ToDto(a)) : TypedResults.NotFound();

    /// <summary>Registering images is for site admins; using them is for whoever may run algorithms in a project.</summary>
    public static async Task<Results<Created<AlgorithmDto>, Ok<AlgorithmDto>, ValidationProblem, Conflict<ProblemDetails>, ProblemHttpResult, ForbidHttpResult>> RegisterAlgorithm(
        RegisterAlgorithmDto request, AlgorithmRegistry registry, ICurrentCaller caller, CancellationToken ct)
    {
        if (!(await caller.GetAsync(ct)).CanAdministerSite) return TypedResults.Forbid();
        string? manifestJson = request.Manifest is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } m
            ? m.ValueKind == JsonValueKind.String ? m.GetString() : m.GetRawText()
            : null;
        var result = await registry.RegisterAsync(new RegisterAlgorithmRequest(request.Image, manifestJson, request.AllowNetwork), ct);
        return result.Outcome switch
        {
            RegistrationOutcome.Registered => TypedResults.Created($"/api/algorithms/{result.Algorithm!.Id}", ToDto(result.Algorithm)),
            RegistrationOutcome.AlreadyRegistered => TypedResults.Ok(ToDto(result.Algorithm!)),
            RegistrationOutcome.Conflict => TypedResults.Conflict(new ProblemDetails { Title = "Name and version are taken by another image.", Detail = string.Join("\n", result.Errors) }),
            RegistrationOutcome.EngineUnavailable => TypedResults.Problem(title: "The workflow engine is unavailable.", detail: string.Join("\n", result.Errors), statusCode: StatusCodes.Status503ServiceUnavailable),
            _ => Invalid("The algorithm could not be registered.", result.Errors),
        };
    }

    private static ValidationProblem Invalid(string title, IReadOnlyList<string> errors) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["errors"] = [.. errors] }, detail: string.Join("\n", errors), title: title);

    private static RunDto ToDto(WorkflowRun r, IReadOnlyList<RunItem> items) =>
        ToDto(r, items.GroupBy(i => i.State).ToDictionary(g => g.Key, g => g.Count()), items);

    private static RunDto ToDto(WorkflowRun r, IReadOnlyDictionary<WorkState, int> counts, IReadOnlyList<RunItem>? items) => new(
        r.Id, r.AlgorithmId, r.AlgorithmName, r.AlgorithmVersion, r.ImageDigest, JsonNode.Parse(r.ParametersJson), r.ProjectId, r.DatasetVersionId,
        r.SeriesSelectionJson is { } s ? JsonNode.Parse(s) : null, r.State, r.CreatedAt, r.StartedAt, r.EndedAt, r.RequestedBy, r.ResultsDatasetId, r.RerunOf,
        counts.ToDictionary(c => c.Key.ToString(), c => c.Value),
        items?.Select(i => new RunItemDto(i.Id, i.ScopeKey, i.State, i.InstanceCount, i.Attempt, i.ExitCode, i.ContainerId, i.StartedAt, i.EndedAt,
            i.Error, i.LogPath is not null || i.State == WorkState.Running, i.MetricsJson is not null)).ToList(), r.TriggerRuleId);

    /// <summary>Runs of the projects the caller can read, newest first.</summary>
    public static async Task<Ok<List<RunDto>>> ListRuns(WorkflowRuns runs, ICurrentCaller caller, CancellationToken ct, int? limit = null)
    {
        var list = await runs.ListAsync(limit ?? 100, ct, (await caller.GetAsync(ct)).ProjectsWith(ProjectPermission.Read));
        var counts = await runs.CountItemsAsync([.. list.Select(r => r.Id)], ct);
        return TypedResults.Ok(list.Select(r => ToDto(r, counts.GetValueOrDefault(r.Id) ?? [], null)).ToList());
    }

    public static async Task<Results<Ok<RunDto>, NotFound>> GetRun(long id, WorkflowRuns runs, ICurrentCaller caller, CancellationToken ct) =>
        await runs.GetAsync(id, ct, await caller.GetAsync(ct)) is { } r ? TypedResults.Ok(ToDto(r.Run, r.Items)) : TypedResults.NotFound();

    private static void AuditRun(IAuditTrail audit, HttpContext http, AccessScope scope, string action, WorkflowRun run, string outcome, object? more = null) =>
        audit.Audit(http, scope, action, $"run:{run.Id}", outcome, new { run = run.Id, algorithm = $"{run.AlgorithmName} {run.AlgorithmVersion}", projectId = run.ProjectId, more });

    /// <summary>Needs Run in the input's project; an input the caller cannot see is answered as a missing one (before asking the container engine).</summary>
    public static async Task<Results<Created<RunDto>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult, ForbidHttpResult>> CreateRun(
        CreateRunDto request, WorkflowRuns runs, AlgorithmRegistry registry, IContainerRunner runner, IProjectCatalog catalog, ICurrentCaller caller,
        IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        // The run's user is the signed-in caller (built-ins such as delete-series decide by it).
        var requestedBy = scope.UserName ?? request.RequestedBy;
        int? projectId = request.DatasetVersionId is { } versionId
            ? (await catalog.GetVersionAsync(versionId, ct))?.ProjectId
            : request.Project is { Length: > 0 } name ? (await catalog.FindProjectAsync(name, ct))?.Id : null;
        var target = $"algorithm:{request.AlgorithmId}" + (projectId is { } pid ? $" project:{pid}" : "");
        if (projectId is { } p && scope.Can(p, ProjectPermission.Read) && !scope.Can(p, ProjectPermission.Run))
            return audit.Denied(http, scope, AuditActions.RunLaunched, target);
        // After the 403 (visible input) and before anything that tells inputs apart: an invisible input and a missing one get the same 503 or 400.
        if (!await registry.IsBuiltInAsync(request.AlgorithmId, ct) && await EngineUnavailableAsync(runner, ct) is { } unavailable) return unavailable;
        var result = await runs.CreateAsync(new CreateRunRequest(request.AlgorithmId, request.Parameters, request.DatasetVersionId, request.Series, request.Project,
            requestedBy, Scope: scope), ct);
        if (result.Outcome == RunCommandOutcome.Forbidden)
        {
            audit.Audit(http, scope, AuditActions.RunLaunched, target, AuditOutcomes.Denied, new { reason = result.Errors[0] });
            return TypedResults.Forbid();
        }
        if (result.Outcome == RunCommandOutcome.Done && await runs.GetAsync(result.RunId!.Value, ct) is { } made)
        {
            AuditRun(audit, http, scope, AuditActions.RunLaunched, made.Run, AuditOutcomes.Success, new { items = made.Items.Count });
            if (made.Run.AlgorithmName == "builtin/deidentify")
                audit.Audit(http, scope, AuditActions.Deidentified, $"run:{made.Run.Id}", AuditOutcomes.Success,
                    new { sourceProjectId = made.Run.ProjectId, targetProject = JsonNode.Parse(made.Run.ParametersJson)?["targetProject"]?.ToString(), items = made.Items.Count });
        }
        return await ToResultAsync(result, runs, created: true, ct);
    }

    private static async Task<Results<Created<RunDto>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult, ForbidHttpResult>> ToResultAsync(
        RunCommandResult result, WorkflowRuns runs, bool created, CancellationToken ct)
    {
        switch (result.Outcome)
        {
            case RunCommandOutcome.Done:
                var r = (await runs.GetAsync(result.RunId!.Value, ct))!.Value;
                return TypedResults.Created($"/api/runs/{r.Run.Id}", ToDto(r.Run, r.Items));
            case RunCommandOutcome.NotFound:
                return TypedResults.NotFound(new ProblemDetails { Title = string.Join("\n", result.Errors) });
            case RunCommandOutcome.Conflict:
                return TypedResults.Conflict(new ProblemDetails { Title = string.Join("\n", result.Errors) });
            case RunCommandOutcome.Forbidden:
                return TypedResults.Forbid();
            default:
                return Invalid(created ? "The run could not be created." : "The command was refused.", result.Errors);
        }
    }

    /// <summary>
    /// The gate of a command on an existing run: a run the caller cannot read answers as a missing one, a readable one
    /// without Run is 403 (audited). Null: go ahead.
    /// </summary>
    private static async Task<IResult?> RunCommandGateAsync(long id, string action, WorkflowRuns runs, AccessScope scope, IAuditTrail audit, HttpContext http,
        CancellationToken ct)
    {
        if (await runs.VisibleProjectAsync(id, scope, ct) is not { } project) return TypedResults.NotFound(new ProblemDetails { Title = $"no run {id}" });
        return scope.Can(project, ProjectPermission.Run) ? null : audit.Denied(http, scope, action, $"run:{id}");
    }

    public static async Task<IResult> CancelRun(long id, WorkflowRuns runs, ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        if (await RunCommandGateAsync(id, AuditActions.RunCancelled, runs, scope, audit, http, ct) is { } refused) return refused;
        var result = await runs.CancelAsync(id, ct, scope);
        switch (result.Outcome)
        {
            case RunCommandOutcome.Done:
                var r = await runs.GetAsync(id, ct) ?? throw new InvalidOperationException($"Run {id} vanished.");
                AuditRun(audit, http, scope, AuditActions.RunCancelled, r.Run, AuditOutcomes.Success);
                return TypedResults.Ok(ToDto(r.Run, r.Items));
            case RunCommandOutcome.NotFound:
                return TypedResults.NotFound(new ProblemDetails { Title = result.Errors[0] });
            case RunCommandOutcome.Forbidden:
                return TypedResults.Forbid();
            default:
                return TypedResults.Conflict(new ProblemDetails { Title = result.Errors[0] });
        }
    }

    public static async Task<IResult> RetryFailed(long id, WorkflowRuns runs, AlgorithmRegistry registry, IContainerRunner runner, ICurrentCaller caller,
        IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        if (await RunCommandGateAsync(id, AuditActions.RunRetried, runs, scope, audit, http, ct) is { } refused) return refused;
        if (!await registry.IsBuiltInRunAsync(id, ct) && await EngineUnavailableAsync(runner, ct) is { } unavailable) return unavailable;
        var result = await runs.RetryFailedAsync(id, ct, scope);
        if (result.Outcome == RunCommandOutcome.Done && await runs.GetAsync(id, ct) is { } r)
            AuditRun(audit, http, scope, AuditActions.RunRetried, r.Run, AuditOutcomes.Success);
        return (await ToResultAsync(result, runs, created: false, ct)).Result;
    }

    public static async Task<IResult> Rerun(long id, WorkflowRuns runs, AlgorithmRegistry registry, IContainerRunner runner, ICurrentCaller caller,
        IAuditTrail audit, HttpContext http, CancellationToken ct, string? requestedBy = null)
    {
        var scope = await caller.GetAsync(ct);
        if (await RunCommandGateAsync(id, AuditActions.RunLaunched, runs, scope, audit, http, ct) is { } refused) return refused;
        if (scope.UserName is { } name) requestedBy = name;
        if (!await registry.IsBuiltInRunAsync(id, ct) && await EngineUnavailableAsync(runner, ct) is { } unavailable) return unavailable;
        var result = await runs.RerunAsync(id, requestedBy, ct, scope);
        if (result.Outcome == RunCommandOutcome.Done && await runs.GetAsync(result.RunId!.Value, ct) is { } r)
            AuditRun(audit, http, scope, AuditActions.RunLaunched, r.Run, AuditOutcomes.Success, new { rerunOf = id });
        return (await ToResultAsync(result, runs, created: true, ct)).Result;
    }

    /// <summary>The item's log; with <c>follow=true</c> it streams the current attempt's lines as the container prints them until the item ends.</summary>
    public static async Task<Results<PhysicalFileHttpResult, PushStreamHttpResult, NotFound>> GetItemLog(
        long id, long itemId, RunResults results, WorkflowRuns runs, ICurrentCaller caller, CancellationToken ct, bool follow = false)
    {
        if (await runs.VisibleProjectAsync(id, await caller.GetAsync(ct), ct) is null) return TypedResults.NotFound();
        if (!follow)
            return await results.GetLogPathAsync(id, itemId, ct) is { } path ? TypedResults.PhysicalFile(path, "text/plain; charset=utf-8") : TypedResults.NotFound();
        if (await runs.GetAsync(id, ct) is not { } run || run.Items.All(i => i.Id != itemId)) return TypedResults.NotFound();
        return TypedResults.Stream(async body =>
        {
            try
            {
                await foreach (var chunk in results.FollowLogAsync(id, itemId, ct))
                {
                    await body.WriteAsync(chunk, ct);
                    await body.FlushAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
        }, "text/plain; charset=utf-8");
    }

    public static async Task<Results<Ok<MetricsTable>, NotFound>> GetMetrics(long id, RunResults results, WorkflowRuns runs, ICurrentCaller caller, CancellationToken ct) =>
        await runs.VisibleProjectAsync(id, await caller.GetAsync(ct), ct) is not null && await results.GetMetricsAsync(id, ct) is { } table
            ? TypedResults.Ok(table) : TypedResults.NotFound();

    public static async Task<Results<ContentHttpResult, NotFound>> GetMetricsCsv(long id, RunResults results, WorkflowRuns runs, ICurrentCaller caller, CancellationToken ct) =>
        await runs.VisibleProjectAsync(id, await caller.GetAsync(ct), ct) is not null && await results.GetMetricsAsync(id, ct) is { } table
            ? TypedResults.Text(RunResults.ToCsv(table), "text/csv; charset=utf-8") : TypedResults.NotFound();

    public static async Task<Results<Ok<RunResultsDto>, NotFound>> GetResults(long id, WorkflowRuns runs, RunResults results, ICurrentCaller caller, CancellationToken ct)
    {
        if (await runs.VisibleProjectAsync(id, await caller.GetAsync(ct), ct) is null) return TypedResults.NotFound();
        var derived = (await results.ListDerivedSeriesAsync(id, ct)).Select(d => new DerivedSeriesDto(d.SeriesInstanceUID, d.RunItemId, d.InstanceCount, JsonNode.Parse(d.SourceSeriesJson))).ToList();
        var artifacts = (await results.ListArtifactsAsync(id, ct)).Select(a => new ArtifactDto(a.Id, a.RunItemId, a.Name, a.Size, a.Sha256, $"/api/runs/{id}/artifacts/{a.Id}")).ToList();
        return TypedResults.Ok(new RunResultsDto(derived, artifacts));
    }

    public static async Task<Results<PhysicalFileHttpResult, NotFound>> DownloadArtifact(long id, long artifactId, RunResults results, WorkflowRuns runs,
        ICurrentCaller caller, CancellationToken ct)
    {
        if (await runs.VisibleProjectAsync(id, await caller.GetAsync(ct), ct) is null) return TypedResults.NotFound();
        var artifact = (await results.ListArtifactsAsync(id, ct)).FirstOrDefault(a => a.Id == artifactId);
        if (artifact is null || !File.Exists(results.AbsolutePath(artifact))) return TypedResults.NotFound();
        return TypedResults.PhysicalFile(results.AbsolutePath(artifact), "application/octet-stream", fileDownloadName: Path.GetFileName(artifact.Name));
    }

    /// <summary>
    /// Needs Read on the series and on the project of the run that made it: provenance names the run's input (source UIDs), which
    /// a member of only the target project of a de-identification must not learn.
    /// </summary>
    public static async Task<Results<Ok<JsonObject>, NotFound>> GetProvenance(string uid, RunResults results, IAccessControl access, ICurrentCaller caller,
        CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        return await access.CanSeriesAsync(scope, uid, ProjectPermission.Read, ct) && await results.GetProvenanceAsync(uid, ct) is { } p
            && p["run"]?["project"]?.GetValue<int>() is { } project && scope.Can(project, ProjectPermission.Read)
            ? TypedResults.Ok(p) : TypedResults.NotFound();
    }
}
