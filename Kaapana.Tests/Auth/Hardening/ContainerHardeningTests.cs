using Docker.DotNet.Models;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Tests.Workflows.Docker;

namespace Kaapana.Tests.Auth.Hardening;

/// <summary>
/// Issue 9's container rules, checked on containers the engine's runner starts on the real test Docker daemon: no Docker
/// socket, no host network/PID/IPC/UTS namespace (in the engine's view and in the kernel's: the container's namespaces
/// differ from the host's), not privileged, no added capabilities, the input mounted read-only; and a configured
/// "host" network for algorithms allowed network access is refused before any container is made.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class ContainerHardeningTests(DockerTestEngine engine)
{
    [Fact]
    public async Task A_running_algorithm_container_shares_no_host_namespace_and_holds_no_privilege_or_docker_socket()
    {
        using var runner = engine.NewRunner();
        using var work = new WorkFolder();
        using var cancel = new CancellationTokenSource();
        ContainerInspectResponse? inspected = null;
        string[]? namespaces = null;

        var result = await runner.RunAsync(work.Spec(DockerTestEngine.Image("hang")), async (_, _) =>
        {
            if (inspected is not null) return;
            inspected = await engine.Client.Containers.InspectContainerAsync((await runner.ListContainersAsync()).Single().ContainerId);
            // The kernel's view: which namespaces the container's first process is in, next to this (host) process's.
            namespaces = new[] { "pid", "net", "ipc", "uts", "mnt" }
                .Select(ns => $"{ns}: {NamespaceOf(inspected.State.Pid, ns)} vs host {NamespaceOf(Environment.ProcessId, ns)}").ToArray();
            await cancel.CancelAsync();
        }, cancel.Token);

        Assert.Equal(ContainerOutcome.Cancelled, result.Outcome);
        Assert.NotNull(inspected);
        var host = inspected.HostConfig;
        Assert.Equal("none", host.NetworkMode);
        Assert.NotEqual("host", host.PidMode ?? "");
        Assert.NotEqual("host", host.IpcMode ?? "");
        Assert.NotEqual("host", host.UTSMode ?? "");
        Assert.NotEqual("host", host.UsernsMode ?? "");
        Assert.False(host.Privileged);
        Assert.True(host.CapAdd is null || host.CapAdd.Count == 0, $"added capabilities: {string.Join(",", host.CapAdd ?? [])}");
        Assert.Equal(["ALL"], host.CapDrop);
        Assert.Contains("no-new-privileges", host.SecurityOpt);
        Assert.True(host.Devices is null || host.Devices.Count == 0, "host devices passed in");
        Assert.True(host.Binds is null || host.Binds.Count == 0, $"binds: {string.Join(",", host.Binds ?? [])}");
        Assert.NotEqual("0", inspected.Config.User.Split(':')[0]);
        Assert.NotEqual("root", inspected.Config.User.Split(':')[0]);
        Assert.Equal(
            [("/input", work.Input, false), ("/output", work.Output, true)],
            inspected.Mounts.OrderBy(m => m.Destination).Select(m => (m.Destination, m.Source, m.RW)));
        // Only the two folders above, so no socket of any engine either.
        Assert.DoesNotContain(inspected.Mounts, m => m.Source.EndsWith(".sock", StringComparison.Ordinal) || m.Destination.EndsWith(".sock", StringComparison.Ordinal));
        Assert.DoesNotContain(inspected.Config.Env, e => e.StartsWith("DOCKER_HOST=", StringComparison.Ordinal));

        Assert.NotNull(namespaces);
        foreach (var line in namespaces)
        {
            var parts = line.Split(" vs host ");
            Assert.False(parts[0].EndsWith(parts[1], StringComparison.Ordinal), $"the container shares the host's namespace: {line}");
        }
    }

    [Theory]
    [InlineData("host")]
    [InlineData("container:some-other")]
    public async Task Network_access_never_means_the_host_network_or_another_containers(string mode)
    {
        using var runner = engine.NewRunner(o => o.AllowedNetworkMode = mode);
        using var work = new WorkFolder();

        var refused = await Assert.ThrowsAsync<ContainerEngineException>(() =>
            runner.RunAsync(work.Spec(DockerTestEngine.Image("succeed")) with { NetworkAccess = true }));

        Assert.Contains($"AllowedNetworkMode '{mode}'", refused.Message);
        Assert.Empty(await runner.ListContainersAsync());
    }

    /// <summary>The namespace's identity (e.g. <c>pid:[4026531836]</c>) from /proc; the test runs on the daemon's host.</summary>
    private static string NamespaceOf(long pid, string ns)
    {
        var link = new FileInfo($"/proc/{pid}/ns/{ns}").LinkTarget;
        Assert.False(string.IsNullOrEmpty(link), $"cannot read /proc/{pid}/ns/{ns}: the test must run on the Docker daemon's host, as root");
        return link;
    }
}
