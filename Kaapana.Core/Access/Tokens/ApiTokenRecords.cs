namespace Kaapana.Core.Access.Tokens;

public enum ApiTokenStatus
{
    Active,
    Expired,
    Revoked,
}

/// <summary>One token as its owner (or an admin) sees it: never the secret or its hash.</summary>
public sealed record ApiTokenInfo(int Id, string Name, string Prefix, string UserId, string? UserName, DateTime CreatedAt, DateTime ExpiresAt,
    DateTime? LastUsedAt, DateTime? RevokedAt, IReadOnlyList<int>? ProjectIds, ApiTokenAccess Access)
{
    /// <summary>How the token is recognised in a list: its marker and public prefix.</summary>
    public string DisplayPrefix => ApiTokenText.Marker + Prefix;

    public ApiTokenStatus StatusAt(DateTime utcNow) =>
        RevokedAt is not null ? ApiTokenStatus.Revoked : ExpiresAt <= utcNow ? ApiTokenStatus.Expired : ApiTokenStatus.Active;
}

/// <summary>What a user asks for. <paramref name="ProjectIds"/> null: every project the owner may access.</summary>
public sealed record NewApiToken(string? Name, int ExpiresInDays, IReadOnlyList<int>? ProjectIds, ApiTokenAccess Access);

/// <summary>The outcome of a create: the token and its text (the only time the text exists outside the caller), or why not.</summary>
public sealed record ApiTokenCreation(ApiTokenInfo? Token, string? Text, string? Error)
{
    public bool Succeeded => Token is not null;
}

public enum ApiTokenRefusal
{
    /// <summary>Not shaped like one of our tokens.</summary>
    Malformed,
    /// <summary>No token with that prefix, or the secret does not match (the two are not told apart).</summary>
    Unknown,
    Expired,
    Revoked,
    OwnerLockedOut,
}

/// <summary>A token that passed: whose it is and how it narrows its owner's rights.</summary>
public sealed record ValidApiToken(int TokenId, string UserId, string? UserName, string? SecurityStamp, IReadOnlyList<int>? ProjectIds,
    ApiTokenAccess Access);

/// <summary>The outcome of <see cref="ApiTokens.ValidateAsync"/>: a <see cref="Token"/>, or a <see cref="Refusal"/> (with the token and owner when known).</summary>
public sealed record ApiTokenCheck(ValidApiToken? Token, ApiTokenRefusal? Refusal, int? TokenId = null, string? UserName = null);
