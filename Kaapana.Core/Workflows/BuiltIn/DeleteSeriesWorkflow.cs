using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Maintenance;
using Kaapana.Core.Workflows.Manifest;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>
/// <c>builtin/delete-series</c>: deletes each item's series from the archive, files and index rows (through
/// <see cref="IArchiveMaintenance.DeleteSeriesAsync"/>, the same path as the archive API). A series that other projects hold
/// too is refused (deleting it would take it from them); a series already gone counts as done, so a retry is harmless.
/// </summary>
public sealed class DeleteSeriesWorkflow(IDbContextFactory<KaapanaDbContext> dbFactory, IArchiveMaintenance maintenance) : IBuiltInWorkflow
{
    public AlgorithmManifest Manifest { get; } = new()
    {
        Name = "builtin/delete-series", Version = "1.0.0", Title = "Delete series", Image = "builtin/delete-series",
        Description = "Deletes the input series from the archive (files and index rows). Cannot be undone.",
        Input = new InputSpec { Scope = InputScope.Series },
        Outputs = [OutputKind.Metrics],
    };

    public async Task<BuiltInResult> ExecuteAsync(BuiltInContext context, CancellationToken ct)
    {
        var uids = context.Input.Select(i => i.Series).Distinct(StringComparer.Ordinal).ToList();
        int deleted = 0, absent = 0;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var uid in uids)
        {
            var others = await db.ProjectSeries.AsNoTracking()
                .Where(l => l.Series.SeriesInstanceUID == uid && l.ProjectId != context.Run.ProjectId)
                .Join(db.Projects, l => l.ProjectId, p => p.Id, (_, p) => p.Name).ToListAsync(ct);
            if (others.Count > 0)
                return BuiltInResult.Fail($"series {uid} is also in project(s) {string.Join(", ", others)}; remove it there first or delete it as an admin in the archive",
                    new JsonObject { ["deleted"] = deleted, ["alreadyGone"] = absent });
            ct.ThrowIfCancellationRequested();
            if (await maintenance.DeleteSeriesAsync(uid, CancellationToken.None)) // once started, a delete finishes: rows and files go together
            {
                deleted++;
                await context.Log($"deleted series {uid}");
            }
            else
            {
                absent++;
                await context.Log($"series {uid} was not in the archive (deleted earlier)");
            }
        }
        return BuiltInResult.Ok(new JsonObject { ["deleted"] = deleted, ["alreadyGone"] = absent });
    }
}
