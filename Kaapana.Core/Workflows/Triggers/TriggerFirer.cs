using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Core.Workflows.Manifest;
using Kaapana.Core.Workflows.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Workflows.Triggers;

/// <summary>How one (rule, series) pair ended.</summary>
public enum FiringOutcome
{
    /// <summary>A run was created (or recorded as refused, when the container engine was unreachable).</summary>
    RunCreated,
    /// <summary>The run could not be created (e.g. the algorithm was disabled since); the firing holds the reason.</summary>
    Refused,
    /// <summary>The rule had already fired on the series.</summary>
    AlreadyFired,
    /// <summary>The series does not match the rule (project, filters, input filter of the algorithm).</summary>
    NoMatch,
}

/// <summary>
/// Fires trigger rules: on a completed series (live, from the archive's completion event) and at start-up for completed
/// series that have no firing yet (catch-up). Once per (rule, series): a <see cref="TriggerFiring"/> row is claimed under a
/// unique index before the run is created. A firing becomes a run on that one series carrying the rule's id; when the
/// container engine is unreachable the run is still recorded, as Failed with the reason.
/// </summary>
public sealed class TriggerFirer(
    IDbContextFactory<KaapanaDbContext> dbFactory,
    WorkflowRuns runs,
    IContainerRunner runner,
    ILogger<TriggerFirer> logger)
{
    /// <summary>When this process started: a firing claimed before it and left without a run was interrupted by a crash.</summary>
    private readonly DateTime _startedAt = DateTime.UtcNow;

    private sealed record ActiveRule(TriggerRule Rule, AlgorithmManifest Manifest, string Project);

    private async Task<List<ActiveRule>> EnabledRulesAsync(KaapanaDbContext db, CancellationToken ct)
    {
        var rules = await db.TriggerRules.AsNoTracking().Where(r => r.Enabled).OrderBy(r => r.Id).ToListAsync(ct);
        if (rules.Count == 0) return [];
        var algorithmIds = rules.Select(r => r.AlgorithmId).Distinct().ToList();
        var manifests = await db.Algorithms.AsNoTracking().Where(a => algorithmIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.ManifestJson, ct);
        var projects = await db.Projects.AsNoTracking().ToDictionaryAsync(p => p.Id, p => p.Name, ct);
        var active = new List<ActiveRule>();
        foreach (var rule in rules)
        {
            if (manifests.GetValueOrDefault(rule.AlgorithmId) is not { } json || ManifestParser.Parse(json).Manifest is not { } manifest)
            {
                logger.LogWarning("Trigger rule {Rule} '{Name}': algorithm {Algorithm} is missing or its manifest no longer validates; skipped", rule.Id, rule.Name, rule.AlgorithmId);
                continue;
            }
            active.Add(new ActiveRule(rule, manifest, projects.GetValueOrDefault(rule.ProjectId, "")));
        }
        return active;
    }

    /// <summary>A series became complete: fire every enabled rule it matches and has not fired on.</summary>
    public async Task<IReadOnlyList<(int RuleId, FiringOutcome Outcome)>> OnSeriesCompletedAsync(SeriesCompleted completed, CancellationToken ct = default)
    {
        var outcomes = new List<(int, FiringOutcome)>();
        List<ActiveRule> rules;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            rules = await EnabledRulesAsync(db, ct);
        foreach (var rule in rules)
        {
            bool matches;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
                matches = await (await TriggerSeriesQuery.BuildAsync(db, rule.Rule, rule.Manifest, ct)).AnyAsync(s => s.Id == completed.SeriesId, ct);
            outcomes.Add((rule.Rule.Id, matches ? await FireAsync(rule, completed.SeriesInstanceUID, ct) : FiringOutcome.NoMatch));
        }
        return outcomes;
    }

    /// <summary>
    /// Start-up catch-up: for every enabled rule, the complete matching series that completed since the rule was enabled and
    /// have no firing (they completed while the server was down, or it stopped between completion and firing). Firings a
    /// crash interrupted before their run was linked are finished first.
    /// </summary>
    public async Task<int> CatchUpAsync(CancellationToken ct = default)
    {
        await FinishInterruptedAsync(ct);
        int fired = 0;
        List<ActiveRule> rules;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            rules = await EnabledRulesAsync(db, ct);
        foreach (var rule in rules)
        {
            List<string> missed;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                var since = rule.Rule.EnabledAt ?? rule.Rule.CreatedAt;
                int ruleId = rule.Rule.Id;
                missed = await (await TriggerSeriesQuery.BuildAsync(db, rule.Rule, rule.Manifest, ct))
                    .Where(s => s.IsComplete && s.CompletedAt >= since && !db.TriggerFirings.Any(f => f.RuleId == ruleId && f.SeriesInstanceUID == s.SeriesInstanceUID))
                    .OrderBy(s => s.CompletedAt).Select(s => s.SeriesInstanceUID).ToListAsync(ct);
            }
            if (missed.Count > 0) logger.LogInformation("Trigger rule {Rule} '{Name}': catching up on {Count} series completed without a firing", rule.Rule.Id, rule.Rule.Name, missed.Count);
            foreach (var uid in missed)
                if (await FireAsync(rule, uid, ct) is FiringOutcome.RunCreated or FiringOutcome.Refused) fired++;
        }
        return fired;
    }

    /// <summary>
    /// Firings claimed by an earlier process that never got their run linked: link the run if it was created (it carries the
    /// rule and the one-series selection), else drop the claim so catch-up fires again.
    /// </summary>
    private async Task FinishInterruptedAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var pending = await db.TriggerFirings.Where(f => f.RunId == null && f.Error == null && f.FiredAt < _startedAt).ToListAsync(ct);
        foreach (var firing in pending)
        {
            var selection = JsonSerializer.Serialize(new[] { firing.SeriesInstanceUID });
            var runId = await db.WorkflowRuns.Where(r => r.TriggerRuleId == firing.RuleId && r.SeriesSelectionJson == selection)
                .OrderBy(r => r.Id).Select(r => (long?)r.Id).FirstOrDefaultAsync(ct);
            if (runId is not null) firing.RunId = runId;
            else db.TriggerFirings.Remove(firing);
        }
        await db.SaveChangesAsync(ct);
    }

    private async Task<FiringOutcome> FireAsync(ActiveRule active, string seriesUid, CancellationToken ct)
    {
        var rule = active.Rule;
        var firing = new TriggerFiring { RuleId = rule.Id, SeriesInstanceUID = seriesUid, FiredAt = DateTime.UtcNow };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.TriggerFirings.Add(firing);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            if (await AlreadyFiredAsync(rule.Id, seriesUid, ct)) return FiringOutcome.AlreadyFired;
            throw;
        }

        try
        {
            var engine = await runner.PingAsync(ct);
            string? refused = engine.Available ? null : $"not started: the container engine is unavailable ({engine.Endpoint}: {engine.Error})";
            var result = await runs.CreateAsync(new CreateRunRequest(rule.AlgorithmId, JsonNode.Parse(rule.ParametersJson)?.AsObject(), Series: [seriesUid],
                Project: active.Project, RequestedBy: $"trigger: {rule.Name}", TriggerRuleId: rule.Id, RefusedBecause: refused), ct);
            if (result.Outcome == RunCommandOutcome.Done)
            {
                firing.RunId = result.RunId;
                await db.SaveChangesAsync(ct);
                logger.LogInformation("Trigger rule {Rule} '{Name}' fired on series {Series}: run {Run}{Refused}", rule.Id, rule.Name, seriesUid, result.RunId,
                    refused is null ? "" : " (" + refused + ")");
                return FiringOutcome.RunCreated;
            }
            firing.Error = string.Join("; ", result.Errors);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogError(e, "Trigger rule {Rule} '{Name}' on series {Series}: the run could not be created", rule.Id, rule.Name, seriesUid);
            firing.Error = $"the run could not be created: {e.GetType().Name}: {e.Message}";
        }
        await db.SaveChangesAsync(CancellationToken.None);
        logger.LogWarning("Trigger rule {Rule} '{Name}' on series {Series} refused: {Error}", rule.Id, rule.Name, seriesUid, firing.Error);
        return FiringOutcome.Refused;
    }

    private async Task<bool> AlreadyFiredAsync(int ruleId, string seriesUid, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.TriggerFirings.AnyAsync(f => f.RuleId == ruleId && f.SeriesInstanceUID == seriesUid, ct);
    }
}
