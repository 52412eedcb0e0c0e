using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Auth;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Access;

/// <summary>
/// <see cref="IAccessControl"/> over the index: memberships are read once per user and cached until a membership of that
/// user changes (<see cref="ProjectMembers"/> invalidates), so a request costs no query to know its scope. Roles (Admin)
/// come from the principal, which the cookie re-validates every minute.
/// </summary>
public sealed class AccessControl(IDbContextFactory<KaapanaDbContext> dbFactory) : IAccessControl
{
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<int, ProjectRole>> _memberships = new();
    private long _generation; // bumped by Invalidate, so a read that raced with a change is not cached

    public async ValueTask<AccessScope> ResolveAsync(ClaimsPrincipal principal, CancellationToken ct = default)
    {
        if (principal.Identity?.IsAuthenticated != true) return AccessScope.None;
        var userId = principal.FindFirstValue(ClaimTypes.NameIdentifier);
        if (string.IsNullOrEmpty(userId)) return AccessScope.None;
        var roles = await MembershipsAsync(userId, ct).ConfigureAwait(false);
        var tokenId = long.TryParse(principal.FindFirstValue(AccessClaims.TokenId), NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : (long?)null;
        IReadOnlySet<int>? tokenProjects = null;
        var readOnly = false;
        if (tokenId is not null)
        {
            if (principal.FindFirstValue(AccessClaims.TokenProjects) is { } list)
                tokenProjects = list.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Select(s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)).ToHashSet();
            // Anything but an explicit read-write grant is read-only: a malformed claim must not widen a token.
            readOnly = principal.FindFirstValue(AccessClaims.TokenAccess) != AccessClaims.ReadWrite;
        }
        return new AccessScope(userId, principal.Identity.Name, principal.IsInRole(KaapanaRoles.Admin), roles, tokenProjects, readOnly, tokenId);
    }

    public async Task<bool> CanSeriesAsync(AccessScope scope, string seriesInstanceUid, ProjectPermission permission, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var projects = await db.ProjectSeries.Where(ps => ps.Series.SeriesInstanceUID == seriesInstanceUid).Select(ps => ps.ProjectId).ToListAsync(ct).ConfigureAwait(false);
        return scope.CanAny(projects, permission);
    }

    public async Task<bool> CanStudyAsync(AccessScope scope, string studyInstanceUid, ProjectPermission permission, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var projects = await db.ProjectSeries.Where(ps => ps.Series.Study.StudyInstanceUID == studyInstanceUid).Select(ps => ps.ProjectId).Distinct().ToListAsync(ct).ConfigureAwait(false);
        return scope.CanAny(projects, permission);
    }

    public async Task<bool> CanDatasetAsync(AccessScope scope, int datasetId, ProjectPermission permission, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var project = await db.Datasets.Where(d => d.Id == datasetId).Select(d => (int?)d.ProjectId).FirstOrDefaultAsync(ct).ConfigureAwait(false);
        return project is { } p && scope.Can(p, permission);
    }

    public async Task<IReadOnlyList<VisibleProject>> ProjectsAsync(AccessScope scope, ProjectPermission permission = ProjectPermission.Read, CancellationToken ct = default)
    {
        var ids = scope.ProjectsWith(permission);
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var query = db.Projects.AsNoTracking();
        if (ids is not null) query = query.Where(p => ids.Contains(p.Id));
        var rows = await query.OrderBy(p => p.Name).Select(p => new { p.Id, p.Name }).ToListAsync(ct).ConfigureAwait(false);
        return rows.Select(p => new VisibleProject(p.Id, p.Name, scope.RoleIn(p.Id))).ToList();
    }

    public void Invalidate(string userId)
    {
        Interlocked.Increment(ref _generation);
        _memberships.TryRemove(userId, out _);
    }

    private async ValueTask<IReadOnlyDictionary<int, ProjectRole>> MembershipsAsync(string userId, CancellationToken ct)
    {
        if (_memberships.TryGetValue(userId, out var cached)) return cached;
        var generation = Interlocked.Read(ref _generation);
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var rows = await db.ProjectMembers.AsNoTracking().Where(m => m.UserId == userId).Select(m => new { m.ProjectId, m.Role }).ToListAsync(ct).ConfigureAwait(false);
        IReadOnlyDictionary<int, ProjectRole> roles = rows.ToDictionary(r => r.ProjectId, r => r.Role);
        if (Interlocked.Read(ref _generation) == generation) _memberships[userId] = roles;
        return roles;
    }
}
