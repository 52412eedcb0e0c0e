using Kaapana.Core.Access;
using Microsoft.AspNetCore.Components.Authorization;

namespace Kaapana.Server.Auth;

/// <summary>
/// The caller of this DI scope: in an HTTP request the request's user (cookie, Basic or token), in a Blazor circuit the
/// circuit's authentication state (which the security-stamp revalidation can end), resolved by <see cref="IAccessControl"/>.
/// </summary>
public sealed class CurrentCaller(IHttpContextAccessor http, IServiceProvider services, IAccessControl access) : ICurrentCaller
{
    private AccessScope? _requestScope;

    public async ValueTask<AccessScope> GetAsync(CancellationToken ct = default)
    {
        // A circuit has no HttpContext of its own (the accessor may show the one that opened it; its user is the same).
        if (http.HttpContext is { } context && context.WebSockets.IsWebSocketRequest is false)
            return _requestScope ??= await access.ResolveAsync(context.User, ct);
        if (services.GetService<AuthenticationStateProvider>() is { } provider)
        {
            var state = await provider.GetAuthenticationStateAsync();
            return await access.ResolveAsync(state.User, ct);
        }
        return AccessScope.None;
    }
}
