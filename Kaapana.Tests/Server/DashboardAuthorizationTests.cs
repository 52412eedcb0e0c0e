using System.Security.Claims;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.Storage;
using Kaapana.Core.Auth;
using Kaapana.Server.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Server;

public sealed class DashboardAuthorizationTests
{
    [Theory]
    [InlineData(null, false)] // not signed in
    [InlineData(KaapanaRoles.Researcher, false)]
    [InlineData(KaapanaRoles.Admin, true)]
    public void Only_admins_reach_the_jobs_dashboard(string? role, bool allowed)
    {
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().BuildServiceProvider() };
        if (role is not null)
        {
            http.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "someone"), new Claim(ClaimTypes.Role, role)], "Test"));
        }
        var context = new AspNetCoreDashboardContext(new UnusedStorage(), new DashboardOptions(), http);

        Assert.Equal(allowed, new AdminOnlyDashboardAuthorizationFilter().Authorize(context));
    }

    [Fact]
    public void A_role_claim_without_authentication_is_not_enough()
    {
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().BuildServiceProvider() };
        http.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Role, KaapanaRoles.Admin)])); // no authentication type
        var context = new AspNetCoreDashboardContext(new UnusedStorage(), new DashboardOptions(), http);

        Assert.False(new AdminOnlyDashboardAuthorizationFilter().Authorize(context));
    }

    private sealed class UnusedStorage : JobStorage
    {
        public override IMonitoringApi GetMonitoringApi() => throw new NotSupportedException();

        public override IStorageConnection GetConnection() => throw new NotSupportedException();
    }
}
