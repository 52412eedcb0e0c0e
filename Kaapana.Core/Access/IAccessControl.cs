using System.Security.Claims;

namespace Kaapana.Core.Access;

/// <summary>
/// The one place that decides access: turns a signed-in principal into an <see cref="AccessScope"/> and answers whether
/// a scope may act on a series, study or dataset. Query services take the scope's project ids and filter themselves.
/// </summary>
public interface IAccessControl
{
    /// <summary>The scope of a principal (cookie, Basic, token or OIDC). An unauthenticated principal gets <see cref="AccessScope.None"/>.</summary>
    ValueTask<AccessScope> ResolveAsync(ClaimsPrincipal principal, CancellationToken ct = default);

    /// <summary>The caller may do <paramref name="permission"/> on the series through at least one of its projects.</summary>
    Task<bool> CanSeriesAsync(AccessScope scope, string seriesInstanceUid, ProjectPermission permission, CancellationToken ct = default);

    /// <summary>The caller may do <paramref name="permission"/> on at least one series of the study.</summary>
    Task<bool> CanStudyAsync(AccessScope scope, string studyInstanceUid, ProjectPermission permission, CancellationToken ct = default);

    /// <summary>The dataset exists and the caller may do <paramref name="permission"/> in its project.</summary>
    Task<bool> CanDatasetAsync(AccessScope scope, int datasetId, ProjectPermission permission, CancellationToken ct = default);

    /// <summary>The projects (id, name) the caller may do <paramref name="permission"/> in, by name.</summary>
    Task<IReadOnlyList<VisibleProject>> ProjectsAsync(AccessScope scope, ProjectPermission permission = ProjectPermission.Read, CancellationToken ct = default);

    /// <summary>Forget cached memberships of a user (after a membership change).</summary>
    void Invalidate(string userId);
}

public sealed record VisibleProject(int Id, string Name, ProjectRole? Role);

/// <summary>The caller of the current HTTP request or Blazor circuit (scoped service).</summary>
public interface ICurrentCaller
{
    ValueTask<AccessScope> GetAsync(CancellationToken ct = default);
}
