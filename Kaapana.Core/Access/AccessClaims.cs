namespace Kaapana.Core.Access;

/// <summary>
/// Claims an API token adds to its owner's principal, narrowing what the owner may do (never widening it): which projects
/// and whether it may write. A principal without <see cref="TokenId"/> is a password, cookie or OIDC sign-in and carries
/// the owner's full rights.
/// </summary>
public static class AccessClaims
{
    /// <summary>The token's database id (present only on token-authenticated requests).</summary>
    public const string TokenId = "kaapana:token";

    /// <summary>Space-separated project ids the token is limited to; absent: every project its owner may access.</summary>
    public const string TokenProjects = "kaapana:token-projects";

    /// <summary><see cref="ReadOnly"/> or <see cref="ReadWrite"/>.</summary>
    public const string TokenAccess = "kaapana:token-access";

    public const string ReadOnly = "read";
    public const string ReadWrite = "write";
}
