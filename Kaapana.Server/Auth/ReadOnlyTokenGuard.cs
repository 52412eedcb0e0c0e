using Kaapana.Core.Access;

namespace Kaapana.Server.Auth;

/// <summary>
/// A read-only API token never changes anything, on any endpoint (also one nobody scoped yet): requests with it may only
/// GET, HEAD or OPTIONS; anything else is 403 whatever the target (so the answer tells nothing about the resource).
/// Project-level narrowing (which projects, which permission) is <c>AccessScope</c>'s; this is the backstop.
/// </summary>
public sealed class ReadOnlyTokenGuard(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var method = context.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && !HttpMethods.IsOptions(method)
            && context.User.FindFirst(AccessClaims.TokenAccess)?.Value == AccessClaims.ReadOnly)
        {
            await Results.Problem(title: "This API token is read-only.", statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(context);
            return;
        }
        await next(context);
    }
}
