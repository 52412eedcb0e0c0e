using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// Recently verified HTTP Basic headers, keyed by a SHA-256 of the header (the password itself is never kept), for
/// <see cref="AuthOptions.BasicCacheDuration"/>. Bounded, so a flood of distinct headers cannot grow it without limit.
/// </summary>
public sealed class BasicCredentialCache(IOptions<AuthOptions> options) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private readonly TimeSpan _duration = options.Value.BasicCacheDuration;

    public sealed record Entry(string UserId, string? SecurityStamp, ClaimsPrincipal Principal);

    public static string KeyOf(string header) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(header)));

    public bool TryGet(string key, out Entry entry) => _cache.TryGetValue(key, out entry!);

    public void Add(string key, Entry entry)
    {
        if (_duration <= TimeSpan.Zero) return;
        _cache.Set(key, entry, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _duration });
    }

    public void Remove(string key) => _cache.Remove(key);

    public void Dispose() => _cache.Dispose();
}
