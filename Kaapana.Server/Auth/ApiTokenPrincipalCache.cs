using System.Security.Claims;
using Kaapana.Core.Access.Tokens;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// The principals of recently validated API tokens (the owner's roles cost queries), by token id, for
/// <see cref="ApiTokenOptions.PrincipalCacheDuration"/>. Only consulted after the token row passed its check on this very
/// request, so a revocation never waits for an entry to expire; an entry whose owner's security stamp changed (a new role,
/// a reset password) is rebuilt. Bounded like <see cref="BasicCredentialCache"/>.
/// </summary>
public sealed class ApiTokenPrincipalCache(IOptions<ApiTokenOptions> options) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private readonly TimeSpan _duration = options.Value.PrincipalCacheDuration;

    private sealed record Entry(string? SecurityStamp, ClaimsPrincipal Principal);

    public bool TryGet(int tokenId, string? securityStamp, out ClaimsPrincipal principal)
    {
        principal = null!;
        if (!_cache.TryGetValue(tokenId, out Entry? entry) || entry is null) return false;
        if (entry.SecurityStamp != securityStamp)
        {
            _cache.Remove(tokenId);
            return false;
        }
        principal = entry.Principal;
        return true;
    }

    public void Add(int tokenId, string? securityStamp, ClaimsPrincipal principal)
    {
        if (_duration <= TimeSpan.Zero) return;
        _cache.Set(tokenId, new Entry(securityStamp, principal), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _duration });
    }

    public void Dispose() => _cache.Dispose();
}
