using Hangfire.Dashboard;
using Kaapana.Core.Auth;

namespace Kaapana.Server.Auth;

/// <summary>
/// The Hangfire dashboard can delete and requeue jobs: only Admins. The endpoint itself already requires the Admin role
/// (so the refusal is a 401/403 from the auth middleware); this filter keeps the dashboard shut should that be lost.
/// </summary>
public sealed class AdminOnlyDashboardAuthorizationFilter : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context)
    {
        var user = context.GetHttpContext().User;
        return user.Identity?.IsAuthenticated == true && user.IsInRole(KaapanaRoles.Admin);
    }
}
