namespace Kaapana.Core.Access;

/// <summary>A user's role in one project, ordered: each role includes the rights of the ones below it.</summary>
public enum ProjectRole
{
    /// <summary>Sees the project's data: browse, query, view, download.</summary>
    Viewer = 1,

    /// <summary>Also curates (datasets, tags, uploads, imports) and runs algorithms.</summary>
    Researcher = 2,

    /// <summary>Also manages members and receiving endpoints, and deletes data.</summary>
    ProjectAdmin = 3,
}

/// <summary>What an action on a project needs.</summary>
public enum ProjectPermission
{
    Read,
    Curate,
    Run,
    Manage,
}

public static class ProjectRoles
{
    public static IReadOnlyList<ProjectRole> All { get; } = [ProjectRole.Viewer, ProjectRole.Researcher, ProjectRole.ProjectAdmin];

    /// <summary>The least role that grants <paramref name="permission"/>.</summary>
    public static ProjectRole Needed(ProjectPermission permission) => permission switch
    {
        ProjectPermission.Read => ProjectRole.Viewer,
        ProjectPermission.Curate or ProjectPermission.Run => ProjectRole.Researcher,
        _ => ProjectRole.ProjectAdmin,
    };

    public static bool Grants(this ProjectRole role, ProjectPermission permission) => role >= Needed(permission);

    /// <summary>Only <see cref="ProjectPermission.Read"/> is a read; read-only API tokens get nothing else.</summary>
    public static bool IsWrite(this ProjectPermission permission) => permission != ProjectPermission.Read;
}
