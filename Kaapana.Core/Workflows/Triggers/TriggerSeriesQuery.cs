using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Manifest;

namespace Kaapana.Core.Workflows.Triggers;

/// <summary>
/// The series a rule applies to, as one SQL query: in the rule's project, matching its metadata filters (the data
/// browser's facet query: series columns and SeriesAttribute rows), accepted by the algorithm's input filter (modality,
/// and at least one instance of an accepted SOP class), and not written by one of the rule's own runs, so a rule whose
/// algorithm accepts its own output cannot feed itself.
/// </summary>
public static class TriggerSeriesQuery
{
    public static async Task<IQueryable<Series>> BuildAsync(KaapanaDbContext db, TriggerRule rule, AlgorithmManifest manifest, CancellationToken ct)
    {
        var filter = TriggerFilters.ToBrowseFilter(TriggerFilters.FromJson(rule.FiltersJson));
        var q = (await BrowseQueries.FilterAsync(db, filter, ct))!;
        int projectId = rule.ProjectId, ruleId = rule.Id;
        q = q.Where(s => db.ProjectSeries.Any(ps => ps.ProjectId == projectId && ps.SeriesId == s.Id));
        var modalities = manifest.Input.Modalities.ToList();
        if (modalities.Count > 0)
        {
            // The manifest's modalities are matched case-insensitively by the run's own input filter; series store them upper-case.
            var upper = modalities.Select(m => m.ToUpperInvariant()).Concat(modalities).Distinct().ToList();
            q = q.Where(s => s.Modality != null && upper.Contains(s.Modality));
        }
        var sopClasses = manifest.Input.SopClasses.ToList();
        if (sopClasses.Count > 0) q = q.Where(s => db.Instances.Any(i => i.SeriesId == s.Id && sopClasses.Contains(i.SOPClassUID)));
        q = q.Where(s => !db.DerivedSeries.Any(d => d.SeriesInstanceUID == s.SeriesInstanceUID
            && db.WorkflowRuns.Any(r => r.Id == d.RunId && r.TriggerRuleId == ruleId)));
        return q;
    }
}
