using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// One token bucket per client address (<see cref="SignInRateLimitOptions"/>) shared by both doors that check passwords:
/// the ASP.NET Core rate-limiting middleware takes a token for each <c>POST /signin</c> (<see cref="ForSignInPosts"/>), and
/// <see cref="BasicAuthenticationHandler"/> takes one before it hashes a password (<see cref="TryAcquire"/>). Lockout stops
/// guessing one account's password; this stops one address from guessing many accounts' passwords.
/// </summary>
public sealed class SignInRateLimiter : IDisposable
{
    /// <summary>The partition of requests that are not limited at all.</summary>
    private const string Unlimited = "";

    private readonly PartitionedRateLimiter<string> _byAddress;
    private readonly TimeSpan _refill;

    public SignInRateLimiter(IOptions<SignInRateLimitOptions> options)
    {
        var o = options.Value;
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

    /// <summary>
    /// <see cref="HttpContext.Items"/> key an authentication handler sets (to the wait) when it refused a request for an empty
    /// bucket; its challenge then answers with <see cref="RejectAsync"/>.
    /// </summary>
    public static readonly object RetryAfterItem = new();

    /// <summary>The middleware's global limiter: sign-in form posts take a token, every other request passes untouched.</summary>
    public PartitionedRateLimiter<HttpContext> ForSignInPosts { get; }

    /// <summary>Takes a token for one password check by this request's client; false (and how long to wait) when none is left.</summary>
    public bool TryAcquire(HttpContext context, out TimeSpan retryAfter)
    {
        using var lease = _byAddress.AttemptAcquire(AddressOf(context));
        retryAfter = lease.IsAcquired ? TimeSpan.Zero : RetryAfter(lease);
        return lease.IsAcquired;
    }

    public TimeSpan RetryAfter(RateLimitLease lease) =>
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
