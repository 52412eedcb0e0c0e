using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;

namespace Kaapana.Core.Workflows.Triggers;

/// <summary>A rule as the editor or the API gives it, before it is checked.</summary>
/// <param name="Filters">DICOM keyword → allowed values; AND across keywords, OR within one. Empty: every series of the project.</param>
public sealed record TriggerRuleInput(
    string? Name,
    string? Project,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Filters,
    int? AlgorithmId,
    JsonObject? Parameters,
    bool Enabled = true);

/// <summary>A rule with what the list shows: names instead of ids, how often it fired and its last firing.</summary>
public sealed record TriggerRuleView(
    int Id,
    string Name,
    bool Enabled,
    string Project,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Filters,
    int AlgorithmId,
    string Algorithm,
    JsonObject Parameters,
    string? CreatedBy,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int Firings,
    TriggerFiringView? LastFiring);

/// <summary>One firing: the series, when, and the run it created (with its state) or why there is none.</summary>
public sealed record TriggerFiringView(long Id, string SeriesInstanceUID, DateTime FiredAt, long? RunId, WorkState? RunState, string? Error);

public enum TriggerCommandOutcome
{
    Done,
    NotFound,
    Invalid,

    /// <summary>The caller sees the rule's project but may not run algorithms there (HTTP 403).</summary>
    Forbidden,
}

public sealed record TriggerCommandResult(TriggerCommandOutcome Outcome, TriggerRuleView? Rule, IReadOnlyList<string> Errors)
{
    public static TriggerCommandResult Ok(TriggerRuleView rule) => new(TriggerCommandOutcome.Done, rule, []);
    public static TriggerCommandResult NotFound(int id) => new(TriggerCommandOutcome.NotFound, null, [$"no trigger rule {id}"]);
    public static TriggerCommandResult Invalid(IReadOnlyList<string> errors) => new(TriggerCommandOutcome.Invalid, null, errors);
    public static TriggerCommandResult Forbidden() => new(TriggerCommandOutcome.Forbidden, null, ["trigger rules of this project need the Researcher role there"]);
}
