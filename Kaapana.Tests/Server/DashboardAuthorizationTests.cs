using System.Net;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.Storage;
using Kaapana.Server.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Server;

public sealed class DashboardAuthorizationTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.2", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("203.0.113.7", false)] // TEST-NET-3: stands for any remote client
    [InlineData("2001:db8::7", false)]
    [InlineData(null, false)]
    public void Only_loopback_clients_reach_the_jobs_dashboard(string? remote, bool allowed)
    {
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().BuildServiceProvider() };
        http.Connection.RemoteIpAddress = remote is null ? null : IPAddress.Parse(remote);
        http.Connection.LocalIpAddress = http.Connection.RemoteIpAddress; // Hangfire's own filter would admit this
        var context = new AspNetCoreDashboardContext(new UnusedStorage(), new DashboardOptions(), http);

        Assert.Equal(allowed, new LoopbackOnlyDashboardAuthorizationFilter().Authorize(context));
    }

    private sealed class UnusedStorage : JobStorage
    {
        public override IMonitoringApi GetMonitoringApi() => throw new NotSupportedException();

        public override IStorageConnection GetConnection() => throw new NotSupportedException();
    }
}
