namespace Kaapana.Core.Auth;

/// <summary>The two roles: admins manage users, endpoints and jobs; researchers work with the data.</summary>
public static class KaapanaRoles
{
    public const string Admin = "Admin";
    public const string Researcher = "Researcher";

    public static IReadOnlyList<string> All { get; } = [Admin, Researcher];
}
