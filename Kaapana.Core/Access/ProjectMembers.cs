using Kaapana.Core.Archive.Index;
using Kaapana.Core.Audit;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Access;

public sealed record MemberRow(string UserId, string UserName, ProjectRole Role, DateTime AddedAt);

/// <summary>The outcome of a membership change: <see cref="Error"/> is a sentence for the page or API when it did not happen.</summary>
public sealed record MemberChange(bool Succeeded, string? Error, bool Forbidden = false)
{
    public static MemberChange Ok { get; } = new(true, null);
    public static MemberChange Fail(string error) => new(false, error);
    public static MemberChange Denied(string error) => new(false, error, Forbidden: true);
}

/// <summary>
/// Who is in a project with which role. Site admins and the project's ProjectAdmins manage it; every change is audited and
/// reaches the member's next request (the membership cache of <see cref="IAccessControl"/> is invalidated).
/// </summary>
public sealed class ProjectMembers(IDbContextFactory<KaapanaDbContext> dbFactory, IAccessControl access, IAuditTrail audit)
{
    public async Task<IReadOnlyList<MemberRow>> ListAsync(AccessScope caller, int projectId, CancellationToken ct = default)
    {
        if (!caller.Can(projectId, ProjectPermission.Read)) return [];
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await (from m in db.ProjectMembers.AsNoTracking()
                          join u in db.Users on m.UserId equals u.Id
                          where m.ProjectId == projectId
                          orderby u.UserName
                          select new { m.UserId, u.UserName, m.Role, m.AddedAt }).ToListAsync(ct);
        return rows.Select(r => new MemberRow(r.UserId, r.UserName ?? "", r.Role, r.AddedAt)).ToList();
    }

    /// <summary>Adds the user to the project, or changes their role there.</summary>
    public async Task<MemberChange> SetAsync(AccessScope caller, int projectId, string userName, ProjectRole role, string? sourceAddress = null, CancellationToken ct = default)
    {
        if (!caller.Can(projectId, ProjectPermission.Manage)) return MemberChange.Denied("Only a site admin or a ProjectAdmin of this project manages its members.");
        if (!Enum.IsDefined(role)) return MemberChange.Fail($"Unknown role '{role}'.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var project = await db.Projects.Where(p => p.Id == projectId).Select(p => p.Name).FirstOrDefaultAsync(ct);
        if (project is null) return MemberChange.Fail("No such project.");
        var user = await db.Users.Where(u => u.NormalizedUserName == userName.Trim().ToUpperInvariant()).Select(u => new { u.Id, u.UserName }).FirstOrDefaultAsync(ct);
        if (user is null) return MemberChange.Fail($"There is no user '{userName.Trim()}'.");
        if (user.Id == caller.UserId && !caller.IsSiteAdmin && role != ProjectRole.ProjectAdmin)
            return MemberChange.Fail("You cannot lower your own role; ask another ProjectAdmin or a site admin.");
        var row = await db.ProjectMembers.FirstOrDefaultAsync(m => m.ProjectId == projectId && m.UserId == user.Id, ct);
        var before = row?.Role;
        if (row is null)
            db.ProjectMembers.Add(new ProjectMember { ProjectId = projectId, UserId = user.Id, Role = role, AddedAt = DateTime.UtcNow });
        else
            row.Role = role;
        await db.SaveChangesAsync(ct);
        access.Invalidate(user.Id);
        audit.Record(new AuditEvent(caller.Actor, before is null ? AuditActions.ProjectMemberAdded : AuditActions.ProjectMemberChanged,
            $"project:{project} user:{user.UserName}", AuditOutcomes.Success, sourceAddress, new { role = role.ToString(), previous = before?.ToString() }));
        return MemberChange.Ok;
    }

    public async Task<MemberChange> RemoveAsync(AccessScope caller, int projectId, string userId, string? sourceAddress = null, CancellationToken ct = default)
    {
        if (!caller.Can(projectId, ProjectPermission.Manage)) return MemberChange.Denied("Only a site admin or a ProjectAdmin of this project manages its members.");
        if (userId == caller.UserId && !caller.IsSiteAdmin) return MemberChange.Fail("You cannot remove yourself; ask another ProjectAdmin or a site admin.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await (from m in db.ProjectMembers
                         join u in db.Users on m.UserId equals u.Id
                         join p in db.Projects on m.ProjectId equals p.Id
                         where m.ProjectId == projectId && m.UserId == userId
                         select new { Member = m, u.UserName, Project = p.Name }).FirstOrDefaultAsync(ct);
        if (row is null) return MemberChange.Fail("That user is not a member of this project.");
        db.ProjectMembers.Remove(row.Member);
        await db.SaveChangesAsync(ct);
        access.Invalidate(userId);
        audit.Record(new AuditEvent(caller.Actor, AuditActions.ProjectMemberRemoved, $"project:{row.Project} user:{row.UserName}", AuditOutcomes.Success, sourceAddress,
            new { role = row.Member.Role.ToString() }));
        return MemberChange.Ok;
    }
}
