namespace Kaapana.Server.Auth;

/// <summary>Which doors answer an unauthenticated request with 401 instead of a redirect to the sign-in page.</summary>
public static class AuthPaths
{
    public const string SignIn = "/signin";
    public const string SignOut = "/signout";
    public const string Realm = "Kaapana";
    public const string BasicChallenge = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";

    /// <summary>Machine APIs: scripts and DICOMweb clients, which take HTTP Basic and must never be sent to an HTML form.</summary>
    public static bool IsBasicApi(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/dicomweb");

    /// <summary>Paths that get a bare status code (401/403) rather than a page.</summary>
    public static bool IsStatusOnly(PathString path) =>
        IsBasicApi(path) || path.StartsWithSegments("/jobs") || path.StartsWithSegments("/openapi") || path.StartsWithSegments("/_blazor")
        || path.StartsWithSegments("/hubs"); // SignalR hubs for external clients (/hubs/runs)
}
