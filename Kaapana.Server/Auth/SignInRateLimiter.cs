using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Kaapana.Core.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// One token bucket per client address (<see cref="SignInRateLimitOptions"/>) shared by both doors that check passwords:
/// the ASP.NET Core rate-limiting middleware takes a token for each <c>POST /signin</c> (<see cref="ForSignInPosts"/>), and
/// <see cref="BasicAuthenticationHandler"/> takes one before it hashes a password (<see cref="Acquire"/>). Lockout stops
/// guessing one account's password; this stops one address from guessing many accounts' passwords.
/// </summary>
public sealed class SignInRateLimiter : IDisposable
{
    /// <summary>The partition of requests that are not limited at all.</summary>
    private const string Unlimited = "";

    private readonly PartitionedRateLimiter<string> _byAddress;
    private readonly TimeSpan _refill;
    private readonly SignInRateLimitOptions _options;
    private readonly IAuditTrail _audit;
    private readonly TimeProvider _time;
    // When each address's refusals were last audited: one entry per window, however many 429s (the trail is no flood gauge).
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastAudited = new(StringComparer.Ordinal);

    public SignInRateLimiter(IOptions<SignInRateLimitOptions> options, IAuditTrail audit, TimeProvider? time = null)
    {
        var o = _options = options.Value;
        _audit = audit;
        _time = time ?? TimeProvider.System;
        _refill = o.Window / o.PermitLimit;
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = o.PermitLimit,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = _refill,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        _byAddress = PartitionedRateLimiter.Create<string, string>(address => address == Unlimited
            ? RateLimitPartition.GetNoLimiter(address)
            : RateLimitPartition.GetTokenBucketLimiter(address, _ => bucket));
        ForSignInPosts = _byAddress.WithTranslatedKey<HttpContext>(
            context => HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(AuthPaths.SignIn, StringComparison.OrdinalIgnoreCase)
                ? AddressOf(context)
                : Unlimited,
            leaveOpen: true);
    }

    // HttpContext.Items key: the wait, set when an authentication handler refused a request for an empty bucket.
    private static readonly object RetryAfterItem = new();

    /// <summary>The middleware's global limiter: sign-in form posts take a token, every other request passes untouched.</summary>
    public PartitionedRateLimiter<HttpContext> ForSignInPosts { get; }

    /// <summary>
    /// For an authentication handler, before a credential check (or after a failed one) by this request's client: null when
    /// a token was left; otherwise the failure to return, and the handler's challenge then answers 429 through
    /// <see cref="ChallengeIfLimited"/>.
    /// </summary>
    public AuthenticateResult? Acquire(HttpContext context)
    {
        using var lease = _byAddress.AttemptAcquire(AddressOf(context));
        if (lease.IsAcquired) return null;
        var retryAfter = RetryAfter(lease);
        NoteRefusal(context, retryAfter);
        context.Items[RetryAfterItem] = retryAfter;
        return AuthenticateResult.Fail("Too many sign-in attempts from this address.");
    }

    /// <summary>The 429 answer for a request <see cref="Acquire"/> refused; null for any other request.</summary>
    public static Task? ChallengeIfLimited(HttpContext context) =>
        context.Items[RetryAfterItem] is TimeSpan retryAfter ? RejectAsync(context, retryAfter, context.RequestAborted) : null;

    /// <summary>The middleware's answer for a sign-in post over the limit.</summary>
    public Task RejectAsync(HttpContext context, RateLimitLease lease, CancellationToken cancellationToken)
    {
        var retryAfter = RetryAfter(lease);
        NoteRefusal(context, retryAfter);
        return RejectAsync(context, retryAfter, cancellationToken);
    }

    private void NoteRefusal(HttpContext context, TimeSpan retryAfter)
    {
        var address = AddressOf(context);
        var now = _time.GetUtcNow();
        if (_lastAudited.TryGetValue(address, out var last) && now - last < _options.Window) return;
        _lastAudited[address] = now;
        if (_lastAudited.Count > 10_000)
            foreach (var (key, at) in _lastAudited)
                if (now - at >= _options.Window) _lastAudited.TryRemove(key, out _);
        _audit.Record(new AuditEvent("(unknown)", AuditActions.SignInRateLimited, context.Request.Path.Value, AuditOutcomes.Denied, address,
            new { permitLimit = _options.PermitLimit, windowSeconds = (int)_options.Window.TotalSeconds, retryAfterSeconds = (int)Math.Ceiling(retryAfter.TotalSeconds) }));
    }

    private TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.Zero ? after : _refill;

    /// <summary>429 with Retry-After (whole seconds, rounded up) and a problem body that says what to do.</summary>
    public static Task RejectAsync(HttpContext context, TimeSpan retryAfter, CancellationToken cancellationToken = default)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return context.Response.WriteAsJsonAsync(new ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests,
            Title = "Too many sign-in attempts from this address.",
            Detail = $"Try again in {seconds} s.",
        }, options: null, contentType: "application/problem+json", cancellationToken);
    }

    // Behind a reverse proxy this is the proxy's address unless Kaapana:ReverseProxy names the proxy.
    private static string AddressOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public void Dispose()
    {
        ForSignInPosts.Dispose();
        _byAddress.Dispose();
    }
}
