namespace Kaapana.Core.Access.Tokens;

/// <summary>What a token may do within its projects; never more than its owner may.</summary>
public enum ApiTokenAccess
{
    Read = 0,
    Write = 1,
}

/// <summary>
/// A personal API token (<c>Authorization: Bearer kpat_…</c>). Only a SHA-256 of its secret is stored: the plaintext is shown
/// once, when it is created. Deleted with its owner.
/// </summary>
public sealed class ApiToken
{
    public int Id { get; set; }

    /// <summary>The owner (AspNetUsers.Id).</summary>
    public required string UserId { get; set; }

    public required string Name { get; set; }

    /// <summary>The public part of the token text (<see cref="ApiTokenText.PrefixLength"/> hex digits): how a token is found.</summary>
    public required string Prefix { get; set; }

    /// <summary>SHA-256 of the 32 secret bytes, hex. The secret is 256 random bits, so no slow hash is needed.</summary>
    public required string SecretHash { get; set; }

    /// <summary>UTC, like every timestamp of the index (SQLite cannot compare DateTimeOffset in queries).</summary>
    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    /// <summary>Updated at most once per <see cref="ApiTokenOptions.LastUsedResolution"/>, not on every request.</summary>
    public DateTime? LastUsedAt { get; set; }

    public DateTime? RevokedAt { get; set; }

    /// <summary>Space-separated project ids the token is limited to; null: every project its owner may access.</summary>
    public string? ProjectIds { get; set; }

    public ApiTokenAccess Access { get; set; }
}
