using System.Runtime.Versioning;
using Docker.DotNet.Models;
using Kaapana.Core.Workflows.Docker;

namespace Kaapana.Tests.Workflows.Docker;

/// <summary>What a container may and may not do, checked from inside it and from the engine's view of it.</summary>
[Collection(DockerCollection.Name)]
public sealed class ContainerSandboxTests(DockerTestEngine engine)
{
    [Fact]
    public async Task Container_has_no_network_but_loopback()
    {
        using var runner = engine.NewRunner();
        using var work = new WorkFolder();

        var result = await runner.RunAsync(work.Spec(DockerTestEngine.Image("succeed")) with { Entrypoint = ["ls", "/sys/class/net"] });

        Assert.Equal(ContainerOutcome.Succeeded, result.Outcome);
        Assert.Equal(["lo"], result.Logs.Stdout.Select(l => l.Text));
    }

    [Fact]
    public async Task Mount_sources_are_translated_to_host_paths_when_the_server_runs_in_a_container()
    {
        using var work = new WorkFolder();
        // What the host calls the server's data folder: another folder here, holding different files.
        var host = Path.Combine(work.Root, "as-seen-by-host");
        Directory.CreateDirectory(Path.Combine(host, "input"));
        Directory.CreateDirectory(Path.Combine(host, "output"));
        File.WriteAllText(Path.Combine(host, "input", "host-side.txt"), "h");
        File.WriteAllText(Path.Combine(work.Input, "server-side.txt"), "s");
        using var runner = engine.NewRunner(o => o.HostPathMappings = [new HostPathMapping { ServerPath = work.Root + "/", HostPath = host }]);

        var result = await runner.RunAsync(work.Spec(DockerTestEngine.Image("succeed")) with { Entrypoint = ["ls", "/input"] });

        Assert.Equal(ContainerOutcome.Succeeded, result.Outcome);
        Assert.Equal(["host-side.txt"], result.Logs.Stdout.Select(l => l.Text));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public async Task Input_and_root_are_read_only_tmp_and_output_writable_without_privileges()
    {
        using var runner = engine.NewRunner();
        using var work = new WorkFolder();
        File.WriteAllText(Path.Combine(work.Input, "source.dcm"), "original");
        // World-writable on the host: only the read-only mount can stop the container.
        File.SetUnixFileMode(work.Input, (UnixFileMode)0x1FF);
        File.SetUnixFileMode(Path.Combine(work.Input, "source.dcm"), (UnixFileMode)0x1B6);
        const string probe = """
            for target in /input/new.txt /input/source.dcm /probe.txt /tmp/probe.txt /output/probe.txt; do
              if echo changed >"$target"; then echo "$target writable"; else echo "$target refused"; fi
            done
            grep -E '^(NoNewPrivs|CapEff):' /proc/self/status
            """;

        var result = await runner.RunAsync(work.Spec(DockerTestEngine.Image("succeed")) with { Entrypoint = ["/bin/sh", "-c", probe] });

        Assert.Equal(ContainerOutcome.Succeeded, result.Outcome);
        Assert.Equal(
            [
                "/input/new.txt refused", "/input/source.dcm refused", "/probe.txt refused", "/tmp/probe.txt writable",
                "/output/probe.txt writable", "CapEff:\t0000000000000000", "NoNewPrivs:\t1",
            ],
            result.Logs.Stdout.Select(l => l.Text));
        Assert.Contains("Read-only file system", result.Logs.Text(ContainerLogStream.Stderr));
        Assert.Equal("original", File.ReadAllText(Path.Combine(work.Input, "source.dcm")));
        Assert.Equal(["source.dcm"], Directory.GetFiles(work.Input).Select(Path.GetFileName));
        Assert.Equal("changed\n", File.ReadAllText(Path.Combine(work.Output, "probe.txt")));
    }

    [Fact]
    public async Task Running_container_carries_labels_limits_and_sandbox_settings_and_no_docker_socket()
    {
        using var runner = engine.NewRunner(o => o.InstanceId = "kaapana-test-labels-" + Guid.NewGuid().ToString("N")[..8]);
        using var work = new WorkFolder();
        using var cancel = new CancellationTokenSource();
        var spec = work.Spec(DockerTestEngine.Image("hang")) with
        {
            Resources = new ContainerResources(Cpus: 0.5, MemoryBytes: 64L << 20, ShmBytes: 32L << 20),
        };
        ContainerInspectResponse? inspected = null;
        IReadOnlyList<ManagedContainer>? listed = null;

        var result = await runner.RunAsync(spec, async (_, _) =>
        {
            listed = await runner.ListContainersAsync();
            inspected = await engine.Client.Containers.InspectContainerAsync(listed.Single().ContainerId);
            await cancel.CancelAsync();
        }, cancel.Token);

        Assert.Equal(ContainerOutcome.Cancelled, result.Outcome);
        Assert.NotNull(inspected);
        var labels = inspected.Config.Labels;
        Assert.Equal(spec.RunId, labels[ContainerLabels.Run]);
        Assert.Equal(spec.ItemId, labels[ContainerLabels.Item]);
        Assert.StartsWith("kaapana-test-labels-", labels[ContainerLabels.Instance]);
        var host = inspected.HostConfig;
        Assert.Equal("none", host.NetworkMode);
        Assert.Equal(ContainerUser.Resolve(null).ToString(), inspected.Config.User);
        Assert.Contains("no-new-privileges", host.SecurityOpt);
        Assert.Equal(["ALL"], host.CapDrop);
        Assert.True(host.ReadonlyRootfs);
        Assert.True(host.Tmpfs.ContainsKey("/tmp"));
        Assert.False(host.Privileged);
        Assert.Equal(500_000_000, host.NanoCPUs);
        Assert.Equal(64L << 20, host.Memory);
        Assert.Equal(64L << 20, host.MemorySwap);
        Assert.Equal(32L << 20, host.ShmSize);
        Assert.Equal(
            [("/input", work.Input, false), ("/output", work.Output, true)],
            inspected.Mounts.OrderBy(m => m.Destination).Select(m => (m.Destination, m.Source, m.RW)));
        Assert.DoesNotContain(inspected.Mounts, m => m.Source.Contains("docker.sock", StringComparison.Ordinal));
    }
}
