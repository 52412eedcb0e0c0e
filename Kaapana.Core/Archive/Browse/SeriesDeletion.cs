using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Maintenance;
using Kaapana.Core.Audit;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Browse;

public enum SeriesDeleteOutcome
{
    Deleted,

    /// <summary>Not in the index, or not visible to the caller (the two look alike).</summary>
    NotFound,

    /// <summary>Visible, but the caller lacks Manage on some project that holds it.</summary>
    Denied,
}

/// <summary>
/// Deleting a series from the data browser: allowed with Manage on every project that holds it (a series shared with another
/// project is that project's data too) or as site admin; every attempt on a visible series is audited with its outcome.
/// </summary>
public sealed class SeriesDeletion(IDbContextFactory<KaapanaDbContext> dbFactory, IArchiveMaintenance maintenance, IAuditTrail audit)
{
    public async Task<SeriesDeleteOutcome> DeleteAsync(AccessScope scope, string seriesInstanceUid, string? sourceAddress = null, CancellationToken ct = default)
    {
        List<int> projects;
        bool exists;
        await using (var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false))
        {
            var id = await db.Series.Where(s => s.SeriesInstanceUID == seriesInstanceUid).Select(s => (long?)s.Id).FirstOrDefaultAsync(ct).ConfigureAwait(false);
            exists = id is not null;
            projects = exists
                ? await db.ProjectSeries.Where(ps => ps.SeriesId == id).Select(ps => ps.ProjectId).ToListAsync(ct).ConfigureAwait(false)
                : [];
        }
        // A series in no project (left over) is the site admin's alone.
        bool visible = projects.Count == 0 ? scope.CanAdministerSite : scope.CanAny(projects, ProjectPermission.Read);
        if (!exists || !visible) return SeriesDeleteOutcome.NotFound;
        bool allowed = projects.Count == 0 ? scope.CanAdministerSite : projects.All(p => scope.Can(p, ProjectPermission.Manage));
        if (!allowed)
        {
            audit.Record(new AuditEvent(scope.Actor, AuditActions.SeriesDeleted, seriesInstanceUid, AuditOutcomes.Denied, sourceAddress,
                new { reason = "needs Manage on every project of the series", door = "ui" }));
            return SeriesDeleteOutcome.Denied;
        }
        bool deleted = await maintenance.DeleteSeriesAsync(seriesInstanceUid, ct).ConfigureAwait(false);
        if (!deleted) return SeriesDeleteOutcome.NotFound;
        audit.Record(new AuditEvent(scope.Actor, AuditActions.SeriesDeleted, seriesInstanceUid, AuditOutcomes.Success, sourceAddress, new { door = "ui" }));
        return SeriesDeleteOutcome.Deleted;
    }
}
