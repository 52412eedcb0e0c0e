using System.Diagnostics;
using Kaapana.Core.Workflows.Docker;

namespace Kaapana.Tests.Workflows.Docker;

/// <summary>The server must run without Docker: availability is a value, never an exception, and comes back quickly.</summary>
[Collection(DockerCollection.Name)]
public sealed class ContainerEnginePingTests(DockerTestEngine engine)
{
    [Fact]
    public async Task Ping_reports_the_test_daemon_available_with_its_api_version()
    {
        using var runner = engine.NewRunner();

        var status = await runner.PingAsync();

        Assert.True(status.Available, status.Error);
        Assert.Equal(engine.Endpoint, status.Endpoint);
        Assert.False(string.IsNullOrEmpty(status.Version));
        Assert.True(Version.Parse(status.ApiVersion!) >= new Version(1, 41), status.ApiVersion);
    }

    [Theory]
    [InlineData("unix:///nonexistent/kaapana/docker.sock")]
    [InlineData("tcp://127.0.0.1:1")] // nothing listens: refused at once
    [InlineData("tcp://10.255.255.1:2375")] // unroutable: no answer until the ping timeout
    [InlineData("not a uri")]
    [InlineData("ftp://example.invalid/")]
    public async Task Ping_against_a_bad_endpoint_reports_unavailable_within_the_ping_timeout(string endpoint)
    {
        using var runner = engine.NewRunner(o =>
        {
            o.Endpoint = endpoint;
            o.PingTimeout = TimeSpan.FromSeconds(1);
            o.RequestTimeout = TimeSpan.FromSeconds(2);
        });

        var clock = Stopwatch.StartNew();
        var status = await runner.PingAsync();
        clock.Stop();

        Assert.False(status.Available);
        Assert.False(string.IsNullOrWhiteSpace(status.Error));
        Assert.Null(status.ApiVersion);
        // Generous bound: what matters is that it does not hang for the HTTP client's default 100 s.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"ping took {clock.Elapsed}");
        // Other calls throw one exception type naming the endpoint, whatever went wrong underneath.
        var e = await Assert.ThrowsAsync<ContainerEngineException>(() => runner.ListContainersAsync());
        Assert.Contains(endpoint, e.Message);
    }
}
