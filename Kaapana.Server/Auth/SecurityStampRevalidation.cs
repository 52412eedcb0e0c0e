using System.Security.Claims;
using Kaapana.Core.Auth;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// A Blazor circuit keeps the user it started with. This re-checks the account's security stamp every minute, so a deleted
/// user, a reset password or a changed role ends an open page's access without a reload (pages then show "not authorized").
/// </summary>
public sealed class SecurityStampRevalidation(ILoggerFactory loggerFactory, IServiceScopeFactory scopes, IOptions<IdentityOptions> identity)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<KaapanaUser>>();
        if (await users.GetUserAsync(state.User) is not { } user) return false;
        var stamp = state.User.FindFirstValue(identity.Value.ClaimsIdentity.SecurityStampClaimType);
        return stamp == await users.GetSecurityStampAsync(user);
    }
}
