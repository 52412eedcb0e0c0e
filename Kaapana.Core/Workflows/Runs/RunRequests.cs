using System.Text.Json.Nodes;

namespace Kaapana.Core.Workflows.Runs;

/// <summary>
/// A launch: an algorithm, parameter values, and input as either a frozen dataset version or an explicit list of series
/// (within <paramref name="Project"/>). Describable as JSON, so a run can later be sent to another site.
/// </summary>
/// <param name="TriggerRuleId">The trigger rule firing this run, if any (recorded on the run).</param>
/// <param name="RefusedBecause">
/// Record the run, but as refused: its items end Failed with this reason instead of being queued (a trigger firing while
/// the container engine is unreachable stays visible, and "retry failed" can start it later).
/// </param>
/// <param name="Scope">
/// The launching caller's access: Run in the input's project (an invisible version or project is answered as a missing one)
/// and what the built-in asks. Null for in-process launches (triggers, the engine) that run as <see cref="Access.AccessScope.System"/>.
/// </param>
public sealed record CreateRunRequest(
    int AlgorithmId,
    JsonObject? Parameters = null,
    long? DatasetVersionId = null,
    IReadOnlyList<string>? Series = null,
    string? Project = null,
    string? RequestedBy = null,
    int? TriggerRuleId = null,
    string? RefusedBecause = null,
    Access.AccessScope? Scope = null);

public enum RunCommandOutcome
{
    Done,
    NotFound,
    Invalid,
    Conflict,
    EngineUnavailable,

    /// <summary>The caller sees the run or its input but may not do this (HTTP 403).</summary>
    Forbidden,
}

public sealed record RunCommandResult(RunCommandOutcome Outcome, long? RunId, IReadOnlyList<string> Errors)
{
    public static RunCommandResult Ok(long runId) => new(RunCommandOutcome.Done, runId, []);
    public static RunCommandResult NotFound(string what) => new(RunCommandOutcome.NotFound, null, [what]);
    public static RunCommandResult Invalid(params string[] errors) => new(RunCommandOutcome.Invalid, null, errors);
    public static RunCommandResult Conflict(string error) => new(RunCommandOutcome.Conflict, null, [error]);
    public static RunCommandResult Forbidden(string error) => new(RunCommandOutcome.Forbidden, null, [error]);
}
