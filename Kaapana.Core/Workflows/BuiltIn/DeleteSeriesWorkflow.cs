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
/// <para>Deleting needs Manage in every project holding the series (a site Admin, or a ProjectAdmin of each): a run that
/// carries a user (<see cref="WorkflowRun.RequestedBy"/>, the signed-in caller of the API) is refused at launch, and again at
/// execution with that user's roles then. A run without a user (made in-process) is not checked: its creator must check first.</para>
/// </summary>
public sealed class DeleteSeriesWorkflow(IDbContextFactory<KaapanaDbContext> dbFactory, IArchiveMaintenance maintenance, RunUsers users) : IBuiltInWorkflow
{
    public AlgorithmManifest Manifest { get; } = new()
    {
        Name = "builtin/delete-series", Version = "1.0.0", Title = "Delete series", Image = "builtin/delete-series",
        Description = "Deletes the input series from the archive (files and index rows). Cannot be undone.",
        Input = new InputSpec { Scope = InputScope.Series },
        Outputs = [OutputKind.Metrics],
    };

    /// <summary>In-process launches by name (no scope) are checked here; API launches in <see cref="ForbiddenAsync"/> (a 403).</summary>
    public async Task<IReadOnlyList<string>> ValidateAsync(BuiltInLaunch launch, CancellationToken ct) =>
        launch.Scope is null && launch.RequestedBy is { } user && await RefusalAsync(await users.ScopeAsync(user, ct), user, launch.SeriesUids ?? [], ct) is { } refusal
            ? [refusal] : [];

    public async Task<string?> ForbiddenAsync(BuiltInLaunch launch, CancellationToken ct) =>
        launch.Scope is { } scope ? await RefusalAsync(scope, launch.RequestedBy ?? scope.Actor, launch.SeriesUids ?? [], ct) : null;

    private async Task<string?> RefusalAsync(Access.AccessScope scope, string user, IReadOnlyCollection<string> seriesUids, CancellationToken ct)
    {
        if (scope.IsSiteAdmin && !scope.ReadOnly) return null;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projects = new HashSet<int>();
        foreach (var chunk in seriesUids.Chunk(500))
            projects.UnionWith(await db.ProjectSeries.AsNoTracking().Where(l => chunk.Contains(l.Series.SeriesInstanceUID)).Select(l => l.ProjectId).Distinct().ToListAsync(ct));
        return projects.All(p => scope.Can(p, Access.ProjectPermission.Manage)) // none left: a retry after the delete
            ? null
            : $"'{user}' may not delete these series: that needs a site Admin or a ProjectAdmin of every project holding them";
    }

    public async Task<BuiltInResult> ExecuteAsync(BuiltInContext context, CancellationToken ct)
    {
        var uids = context.Input.Select(i => i.Series).Distinct(StringComparer.Ordinal).ToList();
        if (context.RequestedBy is { } user && await RefusalAsync(await users.ScopeAsync(user, ct), user, uids, ct) is { } refusal) return BuiltInResult.Fail(refusal);
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
