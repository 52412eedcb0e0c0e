using Kaapana.Core.Access;
using Kaapana.Core.Audit;
using System.Text.Json.Nodes;
using Kaapana.Core.Workflows.Triggers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kaapana.Server.Apis;

/// <summary>
/// REST API of trigger rules ("when a series becomes complete in project P and matches these filters, run algorithm A"):
/// list, create, update, enable/disable, delete, and a rule's firings. Bad rules answer 400 with every problem.
/// </summary>
public static class TriggersApi
{
    /// <param name="Filters">DICOM keyword → allowed values, e.g. <c>{"Modality": ["CT"], "BodyPartExamined": ["CHEST", "LUNG"]}</c>.</param>
    public sealed record TriggerRuleDto(string? Name, string? Project, Dictionary<string, List<string>>? Filters, int? AlgorithmId,
        JsonObject? Parameters, bool? Enabled);

    public static IEndpointRouteBuilder MapTriggersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/triggers").WithTags("Triggers");
        api.MapGet("", List);
        api.MapGet("/{id:int}", Get);
        api.MapGet("/{id:int}/firings", Firings);
        api.MapPost("", Create);
        api.MapPut("/{id:int}", Update);
        api.MapPost("/{id:int}/enable", (int id, TriggerRules rules, ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct) =>
            SetEnabled(id, true, rules, caller, audit, http, ct));
        api.MapPost("/{id:int}/disable", (int id, TriggerRules rules, ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct) =>
            SetEnabled(id, false, rules, caller, audit, http, ct));
        api.MapDelete("/{id:int}", Delete);
        return app;
    }

    private static TriggerRuleInput ToInput(TriggerRuleDto dto) => new(dto.Name, dto.Project,
        dto.Filters?.ToDictionary(e => e.Key, e => (IReadOnlyList<string>)(e.Value ?? [])), dto.AlgorithmId, dto.Parameters, dto.Enabled ?? true);

    private static ValidationProblem Invalid(IReadOnlyList<string> errors) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["errors"] = [.. errors] }, detail: string.Join("\n", errors),
            title: "The trigger rule is not valid.");

    /// <summary>Rules of the projects the caller can read; a rule of another project answers as a missing one everywhere.</summary>
    public static async Task<Ok<IReadOnlyList<TriggerRuleView>>> List(TriggerRules rules, ICurrentCaller caller, CancellationToken ct) =>
        TypedResults.Ok(await rules.ListAsync(ct, (await caller.GetAsync(ct)).ProjectsWith(ProjectPermission.Read)));

    public static async Task<Results<Ok<TriggerRuleView>, NotFound>> Get(int id, TriggerRules rules, ICurrentCaller caller, CancellationToken ct) =>
        await rules.GetAsync(id, ct, (await caller.GetAsync(ct)).ProjectsWith(ProjectPermission.Read)) is { } rule ? TypedResults.Ok(rule) : TypedResults.NotFound();

    public static async Task<Results<Ok<IReadOnlyList<TriggerFiringView>>, NotFound>> Firings(int id, TriggerRules rules, ICurrentCaller caller, CancellationToken ct,
        int? limit = null) =>
        await rules.GetAsync(id, ct, (await caller.GetAsync(ct)).ProjectsWith(ProjectPermission.Read)) is null
            ? TypedResults.NotFound() : TypedResults.Ok(await rules.FiringsAsync(id, limit ?? 100, ct));

    private static void Audit(IAuditTrail audit, HttpContext http, AccessScope scope, string target, string outcome, object? details = null) =>
        audit.Audit(http, scope, AuditActions.TriggerRuleChanged, target, outcome, details);

    /// <summary>Needs Run in the rule's project.</summary>
    public static async Task<Results<Created<TriggerRuleView>, ValidationProblem, ForbidHttpResult>> Create(TriggerRuleDto? request, TriggerRules rules,
        ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        if (request is null) return Invalid(["the body must be a JSON trigger rule"]);
        var scope = await caller.GetAsync(ct);
        var result = await rules.CreateAsync(ToInput(request), scope.UserName, ct, scope);
        switch (result.Outcome)
        {
            case TriggerCommandOutcome.Done:
                Audit(audit, http, scope, $"trigger:{result.Rule!.Id} project:{result.Rule.Project}", AuditOutcomes.Success, new { created = result.Rule.Name });
                return TypedResults.Created($"/api/triggers/{result.Rule!.Id}", result.Rule);
            case TriggerCommandOutcome.Forbidden:
                Audit(audit, http, scope, $"trigger project:{request.Project}", AuditOutcomes.Denied);
                return TypedResults.Forbid();
            default:
                return Invalid(result.Errors);
        }
    }

    public static async Task<Results<Ok<TriggerRuleView>, NotFound, ValidationProblem, ForbidHttpResult>> Update(int id, TriggerRuleDto? request, TriggerRules rules,
        ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        if (request is null) return Invalid(["the body must be a JSON trigger rule"]);
        var scope = await caller.GetAsync(ct);
        var result = await rules.UpdateAsync(id, ToInput(request), ct, scope);
        return Outcome(result, id, scope, audit, http) is { } refused ? refused
            : result.Outcome == TriggerCommandOutcome.Done ? TypedResults.Ok(result.Rule!) : Invalid(result.Errors);
    }

    /// <summary>NotFound / Forbid (audited) / Done (audited); null for Invalid.</summary>
    private static Results<Ok<TriggerRuleView>, NotFound, ValidationProblem, ForbidHttpResult>? Outcome(TriggerCommandResult result, int id, AccessScope scope,
        IAuditTrail audit, HttpContext http)
    {
        switch (result.Outcome)
        {
            case TriggerCommandOutcome.NotFound:
                return TypedResults.NotFound();
            case TriggerCommandOutcome.Forbidden:
                Audit(audit, http, scope, $"trigger:{id}", AuditOutcomes.Denied);
                return TypedResults.Forbid();
            case TriggerCommandOutcome.Done:
                Audit(audit, http, scope, $"trigger:{id} project:{result.Rule!.Project}", AuditOutcomes.Success, new { result.Rule.Enabled });
                return TypedResults.Ok(result.Rule);
            default:
                return null;
        }
    }

    private static async Task<Results<Ok<TriggerRuleView>, NotFound, ValidationProblem, ForbidHttpResult>> SetEnabled(int id, bool enabled, TriggerRules rules,
        ICurrentCaller caller, IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        var result = await rules.SetEnabledAsync(id, enabled, ct, scope);
        return Outcome(result, id, scope, audit, http) ?? Invalid(result.Errors);
    }

    public static async Task<Results<NoContent, NotFound, ForbidHttpResult>> Delete(int id, TriggerRules rules, ICurrentCaller caller, IAuditTrail audit,
        HttpContext http, CancellationToken ct)
    {
        var scope = await caller.GetAsync(ct);
        switch (await rules.DeleteAsync(id, scope, ct))
        {
            case TriggerCommandOutcome.Done:
                Audit(audit, http, scope, $"trigger:{id}", AuditOutcomes.Success, new { deleted = true });
                return TypedResults.NoContent();
            case TriggerCommandOutcome.Forbidden:
                Audit(audit, http, scope, $"trigger:{id}", AuditOutcomes.Denied);
                return TypedResults.Forbid();
            default:
                return TypedResults.NotFound();
        }
    }
}
