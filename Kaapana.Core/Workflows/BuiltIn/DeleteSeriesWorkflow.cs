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
/// <para>Only an Admin may delete: a run that carries a user (<see cref="WorkflowRun.RequestedBy"/>, the signed-in caller of
/// the API) is refused at launch, and again at execution, unless that user is an Admin account. A run without a user (made
/// in-process, e.g. by a future auto-trigger) is not checked: whoever creates such runs must check first.</para>
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

    public async Task<IReadOnlyList<string>> ValidateAsync(BuiltInLaunch launch, CancellationToken ct) =>
        await RefusalAsync(launch.RequestedBy, ct) is { } refusal ? [refusal] : [];

    private async Task<string?> RefusalAsync(string? user, CancellationToken ct) =>
        user is null || await users.IsAdminAsync(user, ct) ? null : $"only an Admin may delete series; '{user}' is not an Admin account";

    public async Task<BuiltInResult> ExecuteAsync(BuiltInContext context, CancellationToken ct)
    {
        if (await RefusalAsync(context.RequestedBy, ct) is { } refusal) return BuiltInResult.Fail(refusal);
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
