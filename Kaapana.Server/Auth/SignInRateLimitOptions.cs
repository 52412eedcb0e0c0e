namespace Kaapana.Server.Auth;

/// <summary>
/// How many password checks one client address may cause, section <c>Kaapana:Auth:RateLimit</c>: posts of the sign-in form
/// and HTTP Basic headers that are not in <see cref="BasicCredentialCache"/>. A bucket of <see cref="PermitLimit"/> attempts
/// that refills evenly over <see cref="Window"/>; beyond it the answer is 429 with Retry-After. Cached Basic headers are
/// never limited, so a DICOMweb client sending its header on every request is not slowed.
/// </summary>
public sealed class SignInRateLimitOptions
{
    public const string SectionName = "Kaapana:Auth:RateLimit";

    /// <summary>Attempts in a burst, and per <see cref="Window"/> after it.</summary>
    public int PermitLimit { get; set; } = 30;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
