namespace Kaapana.Core.Access.Tokens;

/// <summary>Personal API tokens, section <c>Kaapana:Tokens</c>.</summary>
public sealed class ApiTokenOptions
{
    public const string SectionName = "Kaapana:Tokens";

    /// <summary>The longest lifetime a user may choose; every token expires.</summary>
    public int MaxLifetimeDays { get; set; } = 365;

    /// <summary>
    /// How long a token's principal (the owner's roles and claims) is reused without reading the roles again. The token row
    /// itself is read on every request, so a revocation, an expiry, a lockout or a deleted owner takes effect at once.
    /// </summary>
    public TimeSpan PrincipalCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>LastUsedAt is written at most this often per token (a script's every request must not write the index).</summary>
    public TimeSpan LastUsedResolution { get; set; } = TimeSpan.FromMinutes(1);
}
