using Kaapana.Core.Archive.Index;
using Kaapana.Core.Auth;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>Who launched a run, as far as built-ins need to know: whether the run's user is an Admin account.</summary>
public sealed class RunUsers(IDbContextFactory<KaapanaDbContext> dbFactory)
{
    public async Task<bool> IsAdminAsync(string userName, CancellationToken ct)
    {
        // Identity's default normalizer upper-cases invariantly (UpperInvariantLookupNormalizer).
        var normalized = userName.Trim().ToUpperInvariant();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await (from u in db.Users
                      where u.NormalizedUserName == normalized
                      join ur in db.UserRoles on u.Id equals ur.UserId
                      join r in db.Roles on ur.RoleId equals r.Id
                      where r.Name == KaapanaRoles.Admin
                      select u.Id).AnyAsync(ct);
    }
}
