using System.Net;
using Hangfire.Dashboard;

namespace Kaapana.Server.Infrastructure;

/// <summary>
/// Lets only requests from this machine into the Hangfire dashboard, which can delete and
/// requeue jobs. Unlike Hangfire's own <c>LocalRequestsOnlyAuthorizationFilter</c> it does not
/// also admit a remote address that happens to equal the local one.
/// </summary>
public sealed class LoopbackOnlyDashboardAuthorizationFilter : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context)
    {
        var remote = context.GetHttpContext().Connection.RemoteIpAddress;
        if (remote is null)
        {
            return false;
        }

        return IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote);
    }
}
