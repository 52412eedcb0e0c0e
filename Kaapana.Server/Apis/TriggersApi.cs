using System.Security.Claims;
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
        api.MapPost("/{id:int}/enable", (int id, TriggerRules rules, CancellationToken ct) => SetEnabled(id, true, rules, ct));
        api.MapPost("/{id:int}/disable", (int id, TriggerRules rules, CancellationToken ct) => SetEnabled(id, false, rules, ct));
        api.MapDelete("/{id:int}", Delete);
        return app;
    }

    private static TriggerRuleInput ToInput(TriggerRuleDto dto) => new(dto.Name, dto.Project,
        dto.Filters?.ToDictionary(e => e.Key, e => (IReadOnlyList<string>)(e.Value ?? [])), dto.AlgorithmId, dto.Parameters, dto.Enabled ?? true);

    private static ValidationProblem Invalid(IReadOnlyList<string> errors) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["errors"] = [.. errors] }, detail: string.Join("\n", errors),
            title: "The trigger rule is not valid.");

    public static async Task<Ok<IReadOnlyList<TriggerRuleView>>> List(TriggerRules rules, CancellationToken ct) =>
        TypedResults.Ok(await rules.ListAsync(ct));

    public static async Task<Results<Ok<TriggerRuleView>, NotFound>> Get(int id, TriggerRules rules, CancellationToken ct) =>
        await rules.GetAsync(id, ct) is { } rule ? TypedResults.Ok(rule) : TypedResults.NotFound();

    public static async Task<Results<Ok<IReadOnlyList<TriggerFiringView>>, NotFound>> Firings(int id, TriggerRules rules, CancellationToken ct, int? limit = null) =>
        await rules.GetAsync(id, ct) is null ? TypedResults.NotFound() : TypedResults.Ok(await rules.FiringsAsync(id, limit ?? 100, ct));

    public static async Task<Results<Created<TriggerRuleView>, ValidationProblem>> Create(TriggerRuleDto? request, TriggerRules rules, ClaimsPrincipal user, CancellationToken ct)
    {
        if (request is null) return Invalid(["the body must be a JSON trigger rule"]);
        var result = await rules.CreateAsync(ToInput(request), user.Identity?.IsAuthenticated == true ? user.Identity.Name : null, ct);
        return result.Outcome == TriggerCommandOutcome.Done ? TypedResults.Created($"/api/triggers/{result.Rule!.Id}", result.Rule) : Invalid(result.Errors);
    }

    public static async Task<Results<Ok<TriggerRuleView>, NotFound, ValidationProblem>> Update(int id, TriggerRuleDto? request, TriggerRules rules, CancellationToken ct)
    {
        if (request is null) return Invalid(["the body must be a JSON trigger rule"]);
        var result = await rules.UpdateAsync(id, ToInput(request), ct);
        return result.Outcome switch
        {
            TriggerCommandOutcome.Done => TypedResults.Ok(result.Rule!),
            TriggerCommandOutcome.NotFound => TypedResults.NotFound(),
            _ => Invalid(result.Errors),
        };
    }

    private static async Task<Results<Ok<TriggerRuleView>, NotFound>> SetEnabled(int id, bool enabled, TriggerRules rules, CancellationToken ct)
    {
        var result = await rules.SetEnabledAsync(id, enabled, ct);
        return result.Outcome == TriggerCommandOutcome.Done ? TypedResults.Ok(result.Rule!) : TypedResults.NotFound();
    }

    public static async Task<Results<NoContent, NotFound>> Delete(int id, TriggerRules rules, CancellationToken ct) =>
        await rules.DeleteAsync(id, ct) ? TypedResults.NoContent() : TypedResults.NotFound();
}
