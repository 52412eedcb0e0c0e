using System.Text.Json.Nodes;
using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Manifest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Workflows.Triggers;

/// <summary>
/// Trigger rules: list, check, create, update, enable/disable, delete. A rule is checked as a whole when saved (name,
/// project, algorithm, filters, and the parameters against the algorithm's manifest), and every problem is reported.
/// </summary>
public sealed class TriggerRules(IDbContextFactory<KaapanaDbContext> dbFactory, ILogger<TriggerRules> logger)
{
    public const int MaxNameLength = 200;

    /// <summary>A checked rule, ready to store.</summary>
    private sealed record Checked(string Name, int ProjectId, string FiltersJson, int AlgorithmId, string ParametersJson, bool Enabled);

    /// <summary>Every problem of <paramref name="input"/> (empty when it can be saved); <paramref name="ruleId"/> is the rule being edited.</summary>
    public async Task<IReadOnlyList<string>> ValidateAsync(TriggerRuleInput input, int? ruleId = null, CancellationToken ct = default, AccessScope? scope = null) =>
        (await CheckAsync(input, ruleId, ct, scope)).Errors;

    /// <param name="scope">The caller (null: in-process); a project it cannot read is reported as a missing one.</param>
    private async Task<(Checked? Rule, List<string> Errors)> CheckAsync(TriggerRuleInput input, int? ruleId, CancellationToken ct, AccessScope? scope = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var errors = new List<string>();
        var name = input.Name?.Trim() ?? "";
        if (name.Length == 0) errors.Add("name: required");
        else if (name.Length > MaxNameLength) errors.Add($"name: at most {MaxNameLength} characters");
        else if (await db.TriggerRules.AnyAsync(r => r.Name == name && r.Id != (ruleId ?? 0), ct)) errors.Add($"name: a rule named '{name}' exists");

        int projectId = 0;
        var projectName = input.Project?.Trim() ?? "";
        if (projectName.Length == 0) errors.Add("project: required");
        else if (await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Name == projectName, ct) is { } project
                 && scope?.Can(project.Id, ProjectPermission.Read) != false) projectId = project.Id;
        else errors.Add($"project: no project '{projectName}'");

        var (filters, filterErrors) = TriggerFilters.Check(input.Filters);
        errors.AddRange(filterErrors);

        Algorithm? algorithm = null;
        if (input.AlgorithmId is not { } algorithmId) errors.Add("algorithm: required");
        else if ((algorithm = await db.Algorithms.AsNoTracking().FirstOrDefaultAsync(a => a.Id == algorithmId, ct)) is null) errors.Add($"algorithm: no algorithm {algorithmId}");
        else if (!algorithm.Enabled) errors.Add($"algorithm: {algorithm.Name} {algorithm.Version} is disabled");
        if (algorithm is not null)
        {
            var manifest = ManifestParser.Parse(algorithm.ManifestJson).Manifest;
            if (manifest is null) errors.Add($"algorithm: the stored manifest of {algorithm.Name} {algorithm.Version} no longer validates");
            else errors.AddRange(ParameterValues.Validate(manifest, input.Parameters).Errors.Select(e => "parameter " + e));
        }

        return errors.Count > 0
            ? (null, errors)
            : (new Checked(name, projectId, TriggerFilters.ToJson(filters), algorithm!.Id, (input.Parameters ?? []).ToJsonString(), input.Enabled), errors);
    }

    /// <param name="scope">The caller: needs Run in the rule's project (null: in-process).</param>
    public async Task<TriggerCommandResult> CreateAsync(TriggerRuleInput input, string? createdBy, CancellationToken ct = default, AccessScope? scope = null)
    {
        var (rule, errors) = await CheckAsync(input, null, ct, scope);
        if (rule is null) return TriggerCommandResult.Invalid(errors);
        if (scope?.Can(rule.ProjectId, ProjectPermission.Run) == false) return TriggerCommandResult.Forbidden();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = DateTime.UtcNow;
        var row = new TriggerRule
        {
            Name = rule.Name, ProjectId = rule.ProjectId, FiltersJson = rule.FiltersJson, AlgorithmId = rule.AlgorithmId, ParametersJson = rule.ParametersJson,
            Enabled = rule.Enabled, EnabledAt = rule.Enabled ? now : null, CreatedBy = createdBy, CreatedAt = now, UpdatedAt = now,
        };
        db.TriggerRules.Add(row);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two saves of the same new name at once: the unique index decides.
            await using var check = await dbFactory.CreateDbContextAsync(ct);
            if (await check.TriggerRules.AnyAsync(r => r.Name == rule.Name, ct)) return TriggerCommandResult.Invalid([$"name: a rule named '{rule.Name}' exists"]);
            throw;
        }
        logger.LogInformation("Trigger rule {Rule} '{Name}' created by {User}", row.Id, row.Name, createdBy ?? "(unknown)");
        return TriggerCommandResult.Ok((await GetAsync(row.Id, ct))!);
    }

    /// <summary>
    /// Replaces the rule's settings; they apply to series completing from now on. Its firings stay: a series it already
    /// fired on does not fire again.
    /// </summary>
    public async Task<TriggerCommandResult> UpdateAsync(int id, TriggerRuleInput input, CancellationToken ct = default, AccessScope? scope = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.TriggerRules.FirstOrDefaultAsync(r => r.Id == id, ct);
        if (row is null) return TriggerCommandResult.NotFound(id);
        if (Gate(row, scope) is { } refused) return refused;
        var (rule, errors) = await CheckAsync(input, id, ct, scope);
        if (rule is null) return TriggerCommandResult.Invalid(errors);
        if (scope?.Can(rule.ProjectId, ProjectPermission.Run) == false) return TriggerCommandResult.Forbidden();
        var now = DateTime.UtcNow;
        // The rule as now defined applies from now on: start-up catch-up must not fire new filters on older series.
        row.EnabledAt = rule.Enabled ? now : null;
        (row.Name, row.ProjectId, row.FiltersJson, row.AlgorithmId, row.ParametersJson, row.Enabled, row.UpdatedAt) =
            (rule.Name, rule.ProjectId, rule.FiltersJson, rule.AlgorithmId, rule.ParametersJson, rule.Enabled, now);
        await db.SaveChangesAsync(ct);
        return TriggerCommandResult.Ok((await GetAsync(id, ct))!);
    }

    /// <summary>A rule of a project the caller cannot read answers as a missing one; without Run there, as Forbidden.</summary>
    private static TriggerCommandResult? Gate(TriggerRule row, AccessScope? scope) =>
        scope?.Can(row.ProjectId, ProjectPermission.Read) == false ? TriggerCommandResult.NotFound(row.Id)
        : scope?.Can(row.ProjectId, ProjectPermission.Run) == false ? TriggerCommandResult.Forbidden()
        : null;

    public async Task<TriggerCommandResult> SetEnabledAsync(int id, bool enabled, CancellationToken ct = default, AccessScope? scope = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.TriggerRules.FirstOrDefaultAsync(r => r.Id == id, ct);
        if (row is null) return TriggerCommandResult.NotFound(id);
        if (Gate(row, scope) is { } refused) return refused;
        if (row.Enabled != enabled)
        {
            row.Enabled = enabled;
            row.EnabledAt = enabled ? DateTime.UtcNow : null;
            row.UpdatedAt = DateTime.UtcNow;
            await db.SaveChangesAsync(ct);
        }
        return TriggerCommandResult.Ok((await GetAsync(id, ct))!);
    }

    /// <summary>As <see cref="DeleteAsync(int, CancellationToken)"/> for a caller: Run in the rule's project.</summary>
    public async Task<TriggerCommandOutcome> DeleteAsync(int id, AccessScope scope, CancellationToken ct = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var row = await db.TriggerRules.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
            if (row is null) return TriggerCommandOutcome.NotFound;
            if (Gate(row, scope) is { } refused) return refused.Outcome;
        }
        return await DeleteAsync(id, ct) ? TriggerCommandOutcome.Done : TriggerCommandOutcome.NotFound;
    }

    /// <summary>Deletes the rule and its firing records; the runs it created stay (their TriggerRuleId then names no rule).</summary>
    public async Task<bool> DeleteAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var deleted = await db.TriggerRules.Where(r => r.Id == id).ExecuteDeleteAsync(ct) > 0;
        if (deleted) await db.TriggerFirings.Where(f => f.RuleId == id).ExecuteDeleteAsync(ct);
        return deleted;
    }

    /// <summary>The rule; null when it does not exist or its project is not in <paramref name="projects"/> (null = every project).</summary>
    public async Task<TriggerRuleView?> GetAsync(int id, CancellationToken ct = default, int[]? projects = null) => (await ListAsync(id, projects, ct)).FirstOrDefault();

    /// <summary>The rules of <paramref name="projects"/> (<see cref="AccessScope.ProjectsWith"/> of Read; null = every project).</summary>
    public Task<IReadOnlyList<TriggerRuleView>> ListAsync(CancellationToken ct = default, int[]? projects = null) => ListAsync(null, projects, ct);

    private async Task<IReadOnlyList<TriggerRuleView>> ListAsync(int? only, int[]? scope, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rules = await db.TriggerRules.AsNoTracking().Where(r => only == null || r.Id == only).Where(r => scope == null || scope.Contains(r.ProjectId))
            .OrderBy(r => r.Name).ToListAsync(ct);
        if (rules.Count == 0) return [];
        var ids = rules.Select(r => r.Id).ToList();
        var projects = await db.Projects.AsNoTracking().ToDictionaryAsync(p => p.Id, p => p.Name, ct);
        var algorithmIds = rules.Select(r => r.AlgorithmId).Distinct().ToList();
        var algorithms = await db.Algorithms.AsNoTracking().Where(a => algorithmIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => $"{a.Name} {a.Version}", ct);
        var counts = await db.TriggerFirings.Where(f => ids.Contains(f.RuleId)).GroupBy(f => f.RuleId)
            .Select(g => new { RuleId = g.Key, Count = g.Count(), Last = g.Max(f => f.Id) }).ToListAsync(ct);
        var lastIds = counts.Select(c => c.Last).ToList();
        var last = await (from f in db.TriggerFirings.AsNoTracking().Where(f => lastIds.Contains(f.Id))
                          join r in db.WorkflowRuns on f.RunId equals (long?)r.Id into runs
                          from r in runs.DefaultIfEmpty()
                          select new { f.RuleId, View = new TriggerFiringView(f.Id, f.SeriesInstanceUID, f.FiredAt, f.RunId, r == null ? null : (WorkState?)r.State, f.Error) })
            .ToDictionaryAsync(x => x.RuleId, x => x.View, ct);
        return rules.Select(r =>
        {
            var c = counts.FirstOrDefault(c => c.RuleId == r.Id);
            return new TriggerRuleView(r.Id, r.Name, r.Enabled, projects.GetValueOrDefault(r.ProjectId, $"#{r.ProjectId}"), TriggerFilters.FromJson(r.FiltersJson),
                r.AlgorithmId, algorithms.GetValueOrDefault(r.AlgorithmId, $"#{r.AlgorithmId}"), JsonNode.Parse(r.ParametersJson)!.AsObject(),
                r.CreatedBy, r.CreatedAt, r.UpdatedAt, c?.Count ?? 0, last.GetValueOrDefault(r.Id));
        }).ToList();
    }

    /// <summary>The rule's firings, newest first.</summary>
    public async Task<IReadOnlyList<TriggerFiringView>> FiringsAsync(int id, int limit = 100, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await (from f in db.TriggerFirings.AsNoTracking().Where(f => f.RuleId == id)
                      join r in db.WorkflowRuns on f.RunId equals (long?)r.Id into runs
                      from r in runs.DefaultIfEmpty()
                      orderby f.Id descending
                      select new TriggerFiringView(f.Id, f.SeriesInstanceUID, f.FiredAt, f.RunId, r == null ? null : (WorkState?)r.State, f.Error))
            .Take(Math.Clamp(limit, 1, 1000)).ToListAsync(ct);
    }
}
