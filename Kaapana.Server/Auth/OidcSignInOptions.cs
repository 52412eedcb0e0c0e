namespace Kaapana.Server.Auth;

/// <summary>
/// Optional sign-in through an OpenID Connect provider (e.g. an institution's Keycloak), section <c>Kaapana:Auth:Oidc</c>.
/// Without <see cref="Authority"/> nothing changes: local accounts only.
/// </summary>
public sealed class OidcSignInOptions
{
    public const string SectionName = "Kaapana:Auth:Oidc";

    /// <summary>The provider's issuer URL (its discovery document is <c>{Authority}/.well-known/openid-configuration</c>).</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    /// <summary>Empty for a public client (PKCE alone).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Shown on the sign-in page as "Sign in with {DisplayName}".</summary>
    public string DisplayName { get; set; } = "single sign-on";

    /// <summary>Scopes besides <c>openid</c>; default <c>profile email</c>.</summary>
    public string[]? Scopes { get; set; }

    /// <summary>Off only for a test provider on plain HTTP.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);
}
