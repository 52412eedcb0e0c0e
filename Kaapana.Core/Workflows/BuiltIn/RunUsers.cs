using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Auth;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>
/// Who launched a run, as far as built-ins need to know when they run later (the engine itself runs as
/// <see cref="AccessScope.System"/>): the run user's site role and project roles, read again at execution time.
/// </summary>
public sealed class RunUsers(IDbContextFactory<KaapanaDbContext> dbFactory)
{
    public async Task<bool> IsAdminAsync(string userName, CancellationToken ct) => (await ScopeAsync(userName, ct)).IsSiteAdmin;

    /// <summary>The account's scope now; a name that is no account (e.g. "trigger: rule") gets <see cref="AccessScope.None"/>.</summary>
    public async Task<AccessScope> ScopeAsync(string userName, CancellationToken ct)
    {
        // Identity's default normalizer upper-cases invariantly (UpperInvariantLookupNormalizer).
        var normalized = userName.Trim().ToUpperInvariant();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().Where(u => u.NormalizedUserName == normalized).Select(u => new { u.Id, u.UserName }).FirstOrDefaultAsync(ct);
        if (user is null) return AccessScope.None;
        bool admin = await (from ur in db.UserRoles
                            join r in db.Roles on ur.RoleId equals r.Id
                            where ur.UserId == user.Id && r.Name == KaapanaRoles.Admin
                            select ur.UserId).AnyAsync(ct);
        var roles = await db.ProjectMembers.AsNoTracking().Where(m => m.UserId == user.Id).ToDictionaryAsync(m => m.ProjectId, m => m.Role, ct);
        return new AccessScope(user.Id, user.UserName, admin, roles);
    }
}
