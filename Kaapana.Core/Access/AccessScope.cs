namespace Kaapana.Core.Access;

/// <summary>
/// What one caller may do, resolved once per request or circuit by <see cref="IAccessControl"/>. Site admins may do
/// everything; everyone else only what their project roles grant. An API token narrows its owner's rights to its projects
/// and, when read-only, to <see cref="ProjectPermission.Read"/> (it never widens them).
/// </summary>
public sealed class AccessScope
{
    private readonly IReadOnlyDictionary<int, ProjectRole> _roles;
    private readonly IReadOnlySet<int>? _tokenProjects;

    public AccessScope(string? userId, string? userName, bool isSiteAdmin, IReadOnlyDictionary<int, ProjectRole> roles,
        IReadOnlySet<int>? tokenProjects = null, bool readOnly = false, long? tokenId = null)
    {
        UserId = userId;
        UserName = userName;
        IsSiteAdmin = isSiteAdmin;
        _roles = roles;
        _tokenProjects = tokenProjects;
        ReadOnly = readOnly;
        TokenId = tokenId;
    }

    /// <summary>Nobody: sees nothing, may do nothing.</summary>
    public static AccessScope None { get; } = new(null, null, false, new Dictionary<int, ProjectRole>());

    /// <summary>The server itself (ingest, triggers, background jobs): every project.</summary>
    public static AccessScope System { get; } = new(null, "system", true, new Dictionary<int, ProjectRole>());

    public string? UserId { get; }
    public string? UserName { get; }

    /// <summary>For the audit trail: the user name, "system" or "anonymous".</summary>
    public string Actor => UserName ?? "anonymous";

    /// <summary>A site Admin, not narrowed by a token to some projects.</summary>
    public bool IsSiteAdmin { get; }

    /// <summary>The request came with a read-only API token.</summary>
    public bool ReadOnly { get; }

    public long? TokenId { get; }

    /// <summary>The caller's own role in a project (site admins: none unless they are members too).</summary>
    public ProjectRole? RoleIn(int projectId) => _roles.TryGetValue(projectId, out var role) ? role : null;

    /// <summary>May the caller do <paramref name="permission"/> in the project?</summary>
    public bool Can(int projectId, ProjectPermission permission)
    {
        if (ReadOnly && permission.IsWrite()) return false;
        if (_tokenProjects is not null && !_tokenProjects.Contains(projectId)) return false;
        if (IsSiteAdmin) return true;
        return _roles.TryGetValue(projectId, out var role) && role.Grants(permission);
    }

    /// <summary>May the caller do site administration (users, nodes, audit, DICOM access rules)?</summary>
    public bool CanAdministerSite => IsSiteAdmin && !ReadOnly && _tokenProjects is null;

    /// <summary>
    /// The projects the caller may do <paramref name="permission"/> in: null means every project (an unrestricted site
    /// admin); an empty array means none. Pass it to the index queries as their project scope.
    /// </summary>
    public int[]? ProjectsWith(ProjectPermission permission)
    {
        if (ReadOnly && permission.IsWrite()) return [];
        if (IsSiteAdmin) return _tokenProjects?.Order().ToArray();
        return _roles.Where(r => r.Value.Grants(permission) && (_tokenProjects is null || _tokenProjects.Contains(r.Key)))
            .Select(r => r.Key).Order().ToArray();
    }

    /// <summary>Does the caller see any of <paramref name="projectIds"/> (a series or study belongs to several)?</summary>
    public bool CanAny(IEnumerable<int> projectIds, ProjectPermission permission) => projectIds.Any(p => Can(p, permission));
}
