using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Access;

/// <summary>
/// The one check every user ingest door (STOW-RS, uploads, imports) runs per instance, besides Curate in the target project:
/// an instance whose study, series or SOP instance already exists in the index but which the caller may not read is not
/// stored. Storing it would link the existing series to the caller's project and so hand it over (or overwrite another
/// project's instance). The refusal is generic: it does not say which UID exists or where. The same content sent again
/// by someone who may read it stays an idempotent success.
/// </summary>
public sealed class IngestAccess(IDbContextFactory<KaapanaDbContext> dbFactory)
{
    /// <summary>The reason given for every refused instance.</summary>
    public const string Conflict = "conflicts with existing data";

    /// <summary>Null when <paramref name="scope"/> may add an instance with these UIDs, else the generic reason.</summary>
    public Task<string?> RefusalAsync(AccessScope scope, string studyUid, string seriesUid, CancellationToken ct) =>
        RefusalAsync(scope, studyUid, seriesUid, null, ct);

    /// <inheritdoc cref="RefusalAsync(AccessScope, string, string, CancellationToken)"/>
    public async Task<string?> RefusalAsync(AccessScope scope, string studyUid, string seriesUid, string? sopInstanceUid, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var readable = scope.ProjectsWith(ProjectPermission.Read);
        if (readable is null) return null; // every project: nothing can be hidden from this caller
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        // Each UID: absent, or visible through one of the caller's projects (ScopedIndex decides visibility, as for every
        // query); one query per UID. A study is visible through any visible series.
        var studies = db.Studies.InProjects(db, readable);
        if (await db.Studies.AnyAsync(s => s.StudyInstanceUID == studyUid && !studies.Any(v => v.Id == s.Id), ct).ConfigureAwait(false))
            return Conflict;
        var series = db.Series.InProjects(db, readable);
        if (await db.Series.AnyAsync(s => s.SeriesInstanceUID == seriesUid && !series.Any(v => v.Id == s.Id), ct).ConfigureAwait(false))
            return Conflict;
        var instances = db.Instances.InProjects(db, readable);
        if (sopInstanceUid is not null
            && await db.Instances.AnyAsync(i => i.SOPInstanceUID == sopInstanceUid && !instances.Any(v => v.Id == i.Id), ct).ConfigureAwait(false))
            return Conflict;
        return null;
    }

    /// <summary>
    /// The check as an <see cref="IngestContext.Admission"/> for one caller (null for a caller who sees every project), run
    /// by the ingest pipeline after the header is read and before anything is stored or linked.
    /// </summary>
    public IngestAdmission? AdmissionFor(AccessScope scope)
    {
        if (scope.ProjectsWith(ProjectPermission.Read) is null) return null;
        return (instance, ct) => new ValueTask<string?>(RefusalAsync(scope, instance.StudyInstanceUid, instance.SeriesInstanceUid, instance.SopInstanceUid, ct));
    }
}
