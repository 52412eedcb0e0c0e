using Kaapana.Core.Archive.Dicom;
using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Access.Dicom;

/// <summary>
/// Which projects C-FIND/C-MOVE/C-GET through a called AE title see: a receiving endpoint's title sees only its project;
/// any other (the server's default AE title) sees every project, or only the default project when
/// <see cref="DicomAccessOptions.DefaultAEScope"/> says so.
/// </summary>
public sealed class DicomProjectScopes(IDbContextFactory<KaapanaDbContext> dbFactory, IOptions<DicomAccessOptions> access,
    IOptions<DicomReceiverOptions> receiver, IOptions<KaapanaOptions> kaapana)
{
    /// <returns>The project ids in scope; null: every project. An empty array sees nothing.</returns>
    public async Task<int[]?> ResolveAsync(string calledAE, CancellationToken ct = default)
    {
        var ae = calledAE.Trim();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // The archive seeds an endpoint row for its own title (default project, for ingest): for queries it is the default AE.
        if (!IsDefaultAE(ae))
        {
            var endpoint = await db.ReceivingEndpoints.AsNoTracking().Where(e => e.AETitle == ae).Select(e => (int?)e.ProjectId).FirstOrDefaultAsync(ct);
            if (endpoint is { } projectId) return [projectId];
        }
        if (access.Value.DefaultAEScope == DefaultAEScope.AllProjects) return null;
        var name = kaapana.Value.Archive.DefaultProject;
        var defaultId = await db.Projects.Where(p => p.Name == name).Select(p => (int?)p.Id).FirstOrDefaultAsync(ct);
        return defaultId is { } id ? [id] : [];
    }

    private bool IsDefaultAE(string ae) =>
        ae == kaapana.Value.Archive.DefaultAETitle.Trim() || (receiver.Value.AETitle?.Trim() is { Length: > 0 } own && ae == own);
}
