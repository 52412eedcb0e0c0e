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
        // A circuit's scope outlives any request: the accessor may show the connection's /_blazor request (any transport), whose
        // user is frozen at connect time, while the circuit's authentication state follows revalidation. Only plain requests
        // (APIs, prerendering, static pages) use the request's user, resolved once.
        if (http.HttpContext is { } context && !context.Request.Path.StartsWithSegments("/_blazor"))
            return _requestScope ??= await access.ResolveAsync(context.User, ct);
        if (services.GetService<AuthenticationStateProvider>() is { } provider)
        {
            var state = await provider.GetAuthenticationStateAsync();
            return await access.ResolveAsync(state.User, ct);
        }
        return AccessScope.None;
    }
}
