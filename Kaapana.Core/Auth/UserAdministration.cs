using Kaapana.Core.Audit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Core.Auth;

/// <summary>One account as the admin page lists it.</summary>
public sealed record UserRow(string Id, string UserName, string? Role, DateTimeOffset? LockedOutUntil, int FailedAttempts)
{
    public bool IsLockedOut => LockedOutUntil is { } until && until > DateTimeOffset.UtcNow;
}

/// <summary>The outcome of a change: <see cref="Error"/> is a sentence for the page when it did not happen.</summary>
public sealed record UserChange(bool Succeeded, string? Error)
{
    public static UserChange Ok { get; } = new(true, null);

    public static UserChange Fail(string error) => new(false, error);

    public static UserChange From(IdentityResult result) =>
        result.Succeeded ? Ok : Fail(string.Join(" ", result.Errors.Select(e => e.Description)));
}

/// <summary>
/// Account management for admins: list, create, reset password, change role, unlock, delete. Each call runs in its own
/// DI scope (a fresh UserManager and context), so a long-lived Blazor circuit never works on stale tracked entities.
/// Guards: nobody deletes their own account, and the last Admin can be neither deleted nor demoted.
/// </summary>
public sealed class UserAdministration(IServiceScopeFactory scopes)
{
    public async Task<IReadOnlyList<UserRow>> ListAsync(CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Archive.Index.KaapanaDbContext>();
        var users = await db.Users.AsNoTracking().OrderBy(u => u.UserName)
            .Select(u => new { u.Id, u.UserName, u.LockoutEnd, u.AccessFailedCount })
            .ToListAsync(ct);
        var roles = await (from ur in db.UserRoles
                           join r in db.Roles on ur.RoleId equals r.Id
                           select new { ur.UserId, r.Name }).ToListAsync(ct);
        var roleOf = roles.GroupBy(r => r.UserId).ToDictionary(g => g.Key, g => g.Select(r => r.Name).OrderBy(n => n).First());
        return users.Select(u => new UserRow(u.Id, u.UserName ?? "", roleOf.GetValueOrDefault(u.Id), u.LockoutEnd, u.AccessFailedCount)).ToList();
    }

    public async Task<UserChange> CreateAsync(string userName, string password, string role, string? actor = null)
    {
        userName = userName.Trim();
        if (userName.Length == 0) return UserChange.Fail("Enter a user name.");
        if (!KaapanaRoles.All.Contains(role)) return UserChange.Fail($"Unknown role '{role}'.");
        await using var scope = scopes.CreateAsyncScope();
        var users = Users(scope);
        if (await users.FindByNameAsync(userName) is not null) return UserChange.Fail($"There is already a user '{userName}'.");
        var user = new KaapanaUser(userName);
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded) return UserChange.From(created);
        var added = await users.AddToRoleAsync(user, role);
        if (!added.Succeeded)
        {
            await users.DeleteAsync(user); // no account without a role
            return UserChange.From(added);
        }
        Audit(scope, actor, AuditActions.UserCreated, userName, new { role });
        return UserChange.Ok;
    }

    /// <summary>Sets a new password; the security stamp changes, so the user's cookies and cached Basic headers stop working.</summary>
    public async Task<UserChange> ResetPasswordAsync(string userId, string newPassword, string? actor = null)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = Users(scope);
        if (await users.FindByIdAsync(userId) is not { } user) return NoSuchUser;
        // A reset token keeps it one step: a password the rules refuse leaves the old one in place.
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var reset = UserChange.From(await users.ResetPasswordAsync(user, token, newPassword));
        if (reset.Succeeded) Audit(scope, actor, AuditActions.UserPasswordReset, user.UserName, null);
        return reset;
    }

    public async Task<UserChange> ChangeRoleAsync(string userId, string role, string? actor = null)
    {
        if (!KaapanaRoles.All.Contains(role)) return UserChange.Fail($"Unknown role '{role}'.");
        await using var scope = scopes.CreateAsyncScope();
        var users = Users(scope);
        if (await users.FindByIdAsync(userId) is not { } user) return NoSuchUser;
        var current = await users.GetRolesAsync(user);
        if (current.Count == 1 && current[0] == role) return UserChange.Ok;
        if (current.Contains(KaapanaRoles.Admin) && role != KaapanaRoles.Admin && await IsLastAdminAsync(users))
            return UserChange.Fail("This is the last Admin: make another user Admin first.");
        var removed = await users.RemoveFromRolesAsync(user, current);
        if (!removed.Succeeded) return UserChange.From(removed);
        var added = await users.AddToRoleAsync(user, role);
        if (!added.Succeeded) return UserChange.From(added);
        // Roles are claims in the cookie and in cached Basic principals: a new stamp makes both be rebuilt.
        var changed = UserChange.From(await users.UpdateSecurityStampAsync(user));
        if (changed.Succeeded) Audit(scope, actor, AuditActions.UserRoleChanged, user.UserName, new { role, previous = string.Join(",", current) });
        return changed;
    }

    public async Task<UserChange> UnlockAsync(string userId, string? actor = null)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = Users(scope);
        if (await users.FindByIdAsync(userId) is not { } user) return NoSuchUser;
        var unlocked = await users.SetLockoutEndDateAsync(user, null);
        if (!unlocked.Succeeded) return UserChange.From(unlocked);
        var reset = UserChange.From(await users.ResetAccessFailedCountAsync(user));
        if (reset.Succeeded) Audit(scope, actor, AuditActions.UserUnlocked, user.UserName, null);
        return reset;
    }

    public async Task<UserChange> DeleteAsync(string userId, string actingUserId, string? actor = null)
    {
        if (userId == actingUserId) return UserChange.Fail("You cannot delete your own account.");
        await using var scope = scopes.CreateAsyncScope();
        var users = Users(scope);
        if (await users.FindByIdAsync(userId) is not { } user) return NoSuchUser;
        if (await users.IsInRoleAsync(user, KaapanaRoles.Admin) && await IsLastAdminAsync(users))
            return UserChange.Fail("This is the last Admin and cannot be deleted.");
        var deleted = UserChange.From(await users.DeleteAsync(user));
        if (deleted.Succeeded) Audit(scope, actor, AuditActions.UserDeleted, user.UserName, null);
        return deleted;
    }

    // Permission changes go to the audit trail when the host has one (the tests' account store has none).
    private static void Audit(AsyncServiceScope scope, string? actor, string action, string? target, object? details) =>
        scope.ServiceProvider.GetService<IAuditTrail>()?.Record(new AuditEvent(actor ?? "system", action, "user:" + target, AuditOutcomes.Success, Details: details));

    private static UserChange NoSuchUser => UserChange.Fail("That user no longer exists.");

    private static UserManager<KaapanaUser> Users(AsyncServiceScope scope) => scope.ServiceProvider.GetRequiredService<UserManager<KaapanaUser>>();

    private static async Task<bool> IsLastAdminAsync(UserManager<KaapanaUser> users) =>
        (await users.GetUsersInRoleAsync(KaapanaRoles.Admin)).Count <= 1;
}
