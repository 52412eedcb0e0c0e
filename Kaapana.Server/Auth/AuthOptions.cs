namespace Kaapana.Server.Auth;

/// <summary>Sign-in settings, section <c>Kaapana:Auth</c>. The first admin's password is <c>Kaapana:AdminPassword</c>.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Kaapana:Auth";

    /// <summary>Wrong passwords (sign-in page and HTTP Basic together) before an account is locked.</summary>
    public int MaxFailedAccessAttempts { get; set; } = 20;

    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a sign-in cookie lives without use (sliding).</summary>
    public TimeSpan CookieLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>
    /// How long a verified HTTP Basic header is trusted without hashing the password again. DICOMweb clients send the header
    /// on every request and PBKDF2 costs tens of milliseconds; a changed security stamp or a lockout ends the trust at once.
    /// </summary>
    public TimeSpan BasicCacheDuration { get; set; } = TimeSpan.FromSeconds(60);
}
