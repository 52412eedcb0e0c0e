using Kaapana.Core.Archive.Index;
using Kaapana.Core.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Access.Tokens;

/// <summary>
/// Personal API tokens: create (the text is returned once and never stored), list, revoke, and validate a presented token.
/// Creations and revocations are audited here; refusals by the door that saw them (it knows the path and address).
/// </summary>
public sealed class ApiTokens(IDbContextFactory<KaapanaDbContext> dbFactory, IOptions<ApiTokenOptions> options, IAuditTrail audit,
    TimeProvider? time = null)
{
    private readonly ApiTokenOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public int MaxLifetimeDays => _options.MaxLifetimeDays;

    private DateTime UtcNow => _time.GetUtcNow().UtcDateTime;

    /// <param name="userId">The owner (the signed-in caller; never a token: the API and page check that).</param>
    /// <param name="allowedProjects">Projects the owner may access (null: every project); the token may name only those.</param>
    public async Task<ApiTokenCreation> CreateAsync(string userId, string actor, NewApiToken request, IReadOnlyCollection<int>? allowedProjects,
        string? sourceAddress = null, CancellationToken ct = default)
    {
        string name = request.Name?.Trim() ?? "";
        if (name.Length == 0) return Fail("Give the token a name (e.g. the script or notebook that will use it).");
        if (name.Length > ApiTokenModel.MaxNameLength) return Fail($"The name may have at most {ApiTokenModel.MaxNameLength} characters.");
        if (request.ExpiresInDays < 1 || request.ExpiresInDays > _options.MaxLifetimeDays)
            return Fail($"The lifetime must be between 1 and {_options.MaxLifetimeDays} days.");
        if (!Enum.IsDefined(request.Access)) return Fail("Access must be read or write.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        int[]? projects = null;
        if (request.ProjectIds is not null)
        {
            projects = request.ProjectIds.Distinct().Order().ToArray();
            if (projects.Length == 0) return Fail("Choose at least one project, or leave the projects out for all of yours.");
            var existing = await db.Projects.Where(p => projects.Contains(p.Id)).Select(p => p.Id).ToListAsync(ct);
            // One message for "does not exist" and "not yours": a token request must not reveal other projects.
            var bad = projects.FirstOrDefault(p => !existing.Contains(p) || (allowedProjects is not null && !allowedProjects.Contains(p)), -1);
            if (bad != -1) return Fail($"Project {bad} does not exist or is not one of yours.");
        }
        if (!await db.Users.AnyAsync(u => u.Id == userId, ct)) return Fail("That user no longer exists.");

        var now = UtcNow;
        for (int attempt = 0; ; attempt++)
        {
            var (text, prefix, hash) = ApiTokenText.Generate();
            var token = new ApiToken
            {
                UserId = userId, Name = name, Prefix = prefix, SecretHash = hash, CreatedAt = now, ExpiresAt = now.AddDays(request.ExpiresInDays),
                ProjectIds = projects is null ? null : string.Join(' ', projects), Access = request.Access,
            };
            db.ApiTokens.Add(token);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // A prefix collision (48 random bits: practically never): draw again.
                db.ChangeTracker.Clear();
                continue;
            }
            audit.Record(new AuditEvent(actor, AuditActions.TokenCreated, Target(token.Id), AuditOutcomes.Success, sourceAddress,
                new { name, prefix = ApiTokenText.Marker + prefix, expiresAt = token.ExpiresAt, projects, access = Access(token.Access) }));
            return new ApiTokenCreation(ToInfo(token, null), text, null);
        }
    }

    /// <summary>The owner's tokens, newest first (revoked and expired ones too, so the owner sees what happened).</summary>
    public async Task<IReadOnlyList<ApiTokenInfo>> ListAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tokens = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).OrderByDescending(t => t.Id).ToListAsync(ct);
        return tokens.Select(t => ToInfo(t, null)).ToList();
    }

    /// <summary>Every user's tokens with the owner's name, for admins.</summary>
    public async Task<IReadOnlyList<ApiTokenInfo>> ListAllAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ApiTokens.AsNoTracking().OrderByDescending(t => t.Id)
            .Join(db.Users, t => t.UserId, u => u.Id, (t, u) => new { Token = t, u.UserName })
            .ToListAsync(ct);
        return rows.Select(r => ToInfo(r.Token, r.UserName)).ToList();
    }

    /// <summary>
    /// Revokes a token at once (the next request with it is refused). <paramref name="ownerId"/>: only that user's token
    /// (false for anyone else's, exactly as for a missing one); null: any token (admins). Revoking twice keeps the first time.
    /// </summary>
    public async Task<bool> RevokeAsync(int tokenId, string? ownerId, string actor, string? sourceAddress = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId && (ownerId == null || t.UserId == ownerId), ct);
        if (token is null) return false;
        if (token.RevokedAt is null)
        {
            token.RevokedAt = UtcNow;
            await db.SaveChangesAsync(ct);
            audit.Record(new AuditEvent(actor, AuditActions.TokenRevoked, Target(token.Id), AuditOutcomes.Success, sourceAddress,
                new { name = token.Name, prefix = ApiTokenText.Marker + token.Prefix, owner = token.UserId, byAdmin = ownerId is null }));
        }
        return true;
    }

    /// <summary>
    /// Checks a presented token against the index (one indexed read: a revocation, expiry, lockout or deleted owner counts
    /// at once, also when another process changed the database). Notes the use at most once per LastUsedResolution.
    /// </summary>
    public async Task<ApiTokenCheck> ValidateAsync(string text, CancellationToken ct = default)
    {
        if (!ApiTokenText.TryParse(text, out var prefix, out var presentedHash)) return new ApiTokenCheck(null, ApiTokenRefusal.Malformed);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ApiTokens.AsNoTracking().Where(t => t.Prefix == prefix)
            .Join(db.Users, t => t.UserId, u => u.Id, (t, u) => new { Token = t, u.UserName, u.SecurityStamp, u.LockoutEnabled, u.LockoutEnd })
            .SingleOrDefaultAsync(ct);
        if (row is null || !ApiTokenText.HashMatches(presentedHash, row.Token.SecretHash)) return new ApiTokenCheck(null, ApiTokenRefusal.Unknown);

        var token = row.Token;
        var now = UtcNow;
        if (token.RevokedAt is not null) return new ApiTokenCheck(null, ApiTokenRefusal.Revoked, token.Id, row.UserName);
        if (token.ExpiresAt <= now) return new ApiTokenCheck(null, ApiTokenRefusal.Expired, token.Id, row.UserName);
        if (row.LockoutEnabled && row.LockoutEnd is { } end && end.UtcDateTime > now)
            return new ApiTokenCheck(null, ApiTokenRefusal.OwnerLockedOut, token.Id, row.UserName);

        if (token.LastUsedAt is not { } last || now - last >= _options.LastUsedResolution)
        {
            var before = now - _options.LastUsedResolution;
            // Conditional, so concurrent requests of one script write it once.
            await db.ApiTokens.Where(t => t.Id == token.Id && (t.LastUsedAt == null || t.LastUsedAt <= before))
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), ct);
        }
        return new ApiTokenCheck(new ValidApiToken(token.Id, token.UserId, row.UserName, row.SecurityStamp, ParseProjects(token.ProjectIds), token.Access),
            null, token.Id, row.UserName);
    }

    public static string Access(ApiTokenAccess access) => access == ApiTokenAccess.Write ? AccessClaims.ReadWrite : AccessClaims.ReadOnly;

    public static bool TryParseAccess(string? text, out ApiTokenAccess access)
    {
        access = ApiTokenAccess.Read;
        if (string.Equals(text, AccessClaims.ReadOnly, StringComparison.OrdinalIgnoreCase)) return true;
        if (!string.Equals(text, AccessClaims.ReadWrite, StringComparison.OrdinalIgnoreCase)) return false;
        access = ApiTokenAccess.Write;
        return true;
    }

    private static ApiTokenCreation Fail(string error) => new(null, null, error);

    private static string Target(int id) => $"token:{id}";

    private static IReadOnlyList<int>? ParseProjects(string? ids) =>
        ids is null ? null : ids.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();

    private static ApiTokenInfo ToInfo(ApiToken t, string? userName) =>
        new(t.Id, t.Name, t.Prefix, t.UserId, userName, Utc(t.CreatedAt), Utc(t.ExpiresAt), UtcOrNull(t.LastUsedAt), UtcOrNull(t.RevokedAt),
            ParseProjects(t.ProjectIds), t.Access);

    private static DateTime Utc(DateTime d) => DateTime.SpecifyKind(d, DateTimeKind.Utc);

    private static DateTime? UtcOrNull(DateTime? d) => d is { } v ? Utc(v) : null;
}
