using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Manifest;
using Kaapana.Core.Workflows.Runs;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>
/// An algorithm implemented in the server itself: the engine creates its runs and items like any other (states, logs,
/// cancel, retry, provenance), but <see cref="Engine.RunItemExecutor"/> calls <see cref="ExecuteAsync"/> instead of starting a
/// container, so it works without Docker. Implementations are singletons and must be safe to run again for the same item.
/// </summary>
public interface IBuiltInWorkflow
{
    /// <summary>Seeded as an algorithm at start-up; <see cref="AlgorithmManifest.Name"/> starts with <c>builtin/</c>.</summary>
    AlgorithmManifest Manifest { get; }

    /// <summary>Checks the launch beyond the manifest's parameter rules (e.g. a target project exists); every problem listed.</summary>
    Task<IReadOnlyList<string>> ValidateAsync(BuiltInLaunch launch, CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>
    /// Why the launching caller may not run this (beyond Run in the input's project, which the engine checks), or null. Only
    /// asked when the launch carries a scope (<see cref="BuiltInLaunch.Scope"/>); a resource the caller cannot see must be
    /// reported by <see cref="ValidateAsync"/> as nonexistent instead.
    /// </summary>
    Task<string?> ForbiddenAsync(BuiltInLaunch launch, CancellationToken ct) => Task.FromResult<string?>(null);

    /// <summary>Does the item's work. Throwing <see cref="OperationCanceledException"/> on the token is the way to stop.</summary>
    Task<BuiltInResult> ExecuteAsync(BuiltInContext context, CancellationToken ct);
}

/// <summary>
/// A launch as the built-in sees it when checking it: checked parameters, the input's project, who launches (if known), the
/// caller's access (null for in-process launches, e.g. triggers) and the input's series.
/// </summary>
public sealed record BuiltInLaunch(JsonObject Parameters, int ProjectId, string? RequestedBy, Access.AccessScope? Scope = null,
    IReadOnlyList<string>? SeriesUids = null);

/// <summary>What a built-in gets for one item: the run, the item, its frozen input, the checked parameters, and its log.</summary>
public sealed record BuiltInContext(
    WorkflowRun Run,
    RunItem Item,
    IReadOnlyList<WorkflowRuns.InputInstance> Input,
    JsonObject Parameters,
    string WorkDir,
    Func<string, ValueTask> Log)
{
    public string? RequestedBy => Run.RequestedBy;
}

/// <summary>An item's outcome: success, or failure with a message for people; <paramref name="Metrics"/> becomes the item's metrics row.</summary>
public sealed record BuiltInResult(bool Succeeded, string? Error, JsonObject? Metrics = null)
{
    public static BuiltInResult Ok(JsonObject? metrics = null) => new(true, null, metrics);
    public static BuiltInResult Fail(string error, JsonObject? metrics = null) => new(false, error, metrics);
}
