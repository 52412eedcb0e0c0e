using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
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

    public static async Task<Results<Created<AlgorithmDto>, Ok<AlgorithmDto>, ValidationProblem, Conflict<ProblemDetails>, ProblemHttpResult>> RegisterAlgorithm(
        RegisterAlgorithmDto request, AlgorithmRegistry registry, CancellationToken ct)
    {
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

    public static async Task<Ok<List<RunDto>>> ListRuns(WorkflowRuns runs, CancellationToken ct, int? limit = null)
    {
        var list = await runs.ListAsync(limit ?? 100, ct);
        var counts = await runs.CountItemsAsync([.. list.Select(r => r.Id)], ct);
        return TypedResults.Ok(list.Select(r => ToDto(r, counts.GetValueOrDefault(r.Id) ?? [], null)).ToList());
    }

    public static async Task<Results<Ok<RunDto>, NotFound>> GetRun(long id, WorkflowRuns runs, CancellationToken ct) =>
        await runs.GetAsync(id, ct) is { } r ? TypedResults.Ok(ToDto(r.Run, r.Items)) : TypedResults.NotFound();

    public static async Task<Results<Created<RunDto>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult>> CreateRun(
        CreateRunDto request, WorkflowRuns runs, AlgorithmRegistry registry, IContainerRunner runner, ClaimsPrincipal user, CancellationToken ct)
    {
        // The run's user is the signed-in caller (built-ins such as delete-series decide by it); the body's value only without sign-in.
        var requestedBy = user.Identity is { IsAuthenticated: true, Name: { } name } ? name : request.RequestedBy;
        if (!await registry.IsBuiltInAsync(request.AlgorithmId, ct) && await EngineUnavailableAsync(runner, ct) is { } unavailable) return unavailable;
        var result = await runs.CreateAsync(new CreateRunRequest(request.AlgorithmId, request.Parameters, request.DatasetVersionId, request.Series, request.Project, requestedBy), ct);
        return await ToResultAsync(result, runs, created: true, ct);
    }

    private static async Task<Results<Created<RunDto>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult>> ToResultAsync(
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
            default:
                return Invalid(created ? "The run could not be created." : "The command was refused.", result.Errors);
        }
    }

    public static async Task<Results<Ok<RunDto>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> CancelRun(long id, WorkflowRuns runs, CancellationToken ct)
    {
        var result = await runs.CancelAsync(id, ct);
        return result.Outcome switch
        {
            RunCommandOutcome.Done => TypedResults.Ok(await runs.GetAsync(id, ct) is { } r ? ToDto(r.Run, r.Items) : throw new InvalidOperationException($"Run {id} vanished.")),
            RunCommandOutcome.NotFound => TypedResults.NotFound(new ProblemDetails { Title = result.Errors[0] }),
            _ => TypedResults.Conflict(new ProblemDetails { Title = result.Errors[0] }),
        };
    }

    public static async Task<Results<Created<RunDto>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult>> RetryFailed(
        long id, WorkflowRuns runs, AlgorithmRegistry registry, IContainerRunner runner, CancellationToken ct)
    {
        if (!await registry.IsBuiltInRunAsync(id, ct) && await EngineUnavailableAsync(runner, ct) is { } unavailable) return unavailable;
        return await ToResultAsync(await runs.RetryFailedAsync(id, ct), runs, created: false, ct);
    }

    public static async Task<Results<Created<RunDto>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult>> Rerun(
        long id, WorkflowRuns runs, AlgorithmRegistry registry, IContainerRunner runner, ClaimsPrincipal user, CancellationToken ct, string? requestedBy = null)
    {
        if (user.Identity is { IsAuthenticated: true, Name: { } name }) requestedBy = name;
        if (!await registry.IsBuiltInRunAsync(id, ct) && await EngineUnavailableAsync(runner, ct) is { } unavailable) return unavailable;
        return await ToResultAsync(await runs.RerunAsync(id, requestedBy, ct), runs, created: true, ct);
    }

    /// <summary>The item's log; with <c>follow=true</c> it streams the current attempt's lines as the container prints them until the item ends.</summary>
    public static async Task<Results<PhysicalFileHttpResult, PushStreamHttpResult, NotFound>> GetItemLog(
        long id, long itemId, RunResults results, WorkflowRuns runs, CancellationToken ct, bool follow = false)
    {
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

    public static async Task<Results<Ok<MetricsTable>, NotFound>> GetMetrics(long id, RunResults results, CancellationToken ct) =>
        await results.GetMetricsAsync(id, ct) is { } table ? TypedResults.Ok(table) : TypedResults.NotFound();

    public static async Task<Results<ContentHttpResult, NotFound>> GetMetricsCsv(long id, RunResults results, CancellationToken ct) =>
        await results.GetMetricsAsync(id, ct) is { } table ? TypedResults.Text(RunResults.ToCsv(table), "text/csv; charset=utf-8") : TypedResults.NotFound();

    public static async Task<Results<Ok<RunResultsDto>, NotFound>> GetResults(long id, WorkflowRuns runs, RunResults results, CancellationToken ct)
    {
        if (await runs.GetAsync(id, ct) is null) return TypedResults.NotFound();
        var derived = (await results.ListDerivedSeriesAsync(id, ct)).Select(d => new DerivedSeriesDto(d.SeriesInstanceUID, d.RunItemId, d.InstanceCount, JsonNode.Parse(d.SourceSeriesJson))).ToList();
        var artifacts = (await results.ListArtifactsAsync(id, ct)).Select(a => new ArtifactDto(a.Id, a.RunItemId, a.Name, a.Size, a.Sha256, $"/api/runs/{id}/artifacts/{a.Id}")).ToList();
        return TypedResults.Ok(new RunResultsDto(derived, artifacts));
    }

    public static async Task<Results<PhysicalFileHttpResult, NotFound>> DownloadArtifact(long id, long artifactId, RunResults results, CancellationToken ct)
    {
        var artifact = (await results.ListArtifactsAsync(id, ct)).FirstOrDefault(a => a.Id == artifactId);
        if (artifact is null || !File.Exists(results.AbsolutePath(artifact))) return TypedResults.NotFound();
        return TypedResults.PhysicalFile(results.AbsolutePath(artifact), "application/octet-stream", fileDownloadName: Path.GetFileName(artifact.Name));
    }

    public static async Task<Results<Ok<JsonObject>, NotFound>> GetProvenance(string uid, RunResults results, CancellationToken ct) =>
        await results.GetProvenanceAsync(uid, ct) is { } p ? TypedResults.Ok(p) : TypedResults.NotFound();
}
