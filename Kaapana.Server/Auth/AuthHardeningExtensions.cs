using Kaapana.Core.Auth;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// Issue 9's hardening of the sign-in doors, on top of <see cref="AuthExtensions.AddKaapanaAuth"/> (call it after that):
/// a per-address limit on password checks (<see cref="SignInRateLimiter"/>), unknown user names hashed like real ones
/// (<see cref="DecoyingSignInManager"/>), and the antiforgery cookie marked Secure on HTTPS like the sign-in cookie.
/// </summary>
public static class AuthHardeningExtensions
{
    public static IHostApplicationBuilder AddKaapanaAuthHardening(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SignInRateLimitOptions>().BindConfiguration(SignInRateLimitOptions.SectionName)
            .Validate(o => o.PermitLimit > 0, "Kaapana:Auth:RateLimit:PermitLimit must be at least 1.")
            .Validate(o => o.Window > TimeSpan.Zero, "Kaapana:Auth:RateLimit:Window must be positive.")
            .ValidateOnStart();
        services.AddSingleton<SignInRateLimiter>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<SignInRateLimiter>((options, limiter) =>
        {
            options.GlobalLimiter = limiter.ForSignInPosts;
            options.OnRejected = (context, ct) => new ValueTask(limiter.RejectAsync(context.HttpContext, context.Lease, ct));
        });

        services.AddSingleton<DecoyPasswordCheck>();
        // Replaces Identity's registration (the last one wins): the sign-in page's PasswordSignInAsync goes through it.
        services.AddScoped<SignInManager<KaapanaUser>, DecoyingSignInManager>();

        services.Configure<AntiforgeryOptions>(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        return builder;
    }

    /// <summary>The rate limiter for sign-in form posts (Basic checks are limited in their handler).</summary>
    public static IApplicationBuilder UseKaapanaSignInRateLimit(this IApplicationBuilder app) => app.UseRateLimiter();
}
