using System.Collections.Concurrent;
using System.Text.Json;
using Docker.DotNet;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Tests.Interop;

namespace Kaapana.Tests.Workflows.Docker;

/// <summary>One container per work item, end to end on the real daemon: outcomes, outputs, logs, timeout, cancellation, removal.</summary>
[Collection(DockerCollection.Name)]
public sealed class ContainerRunTests(DockerTestEngine engine)
{
    [Fact]
    public async Task Succeeding_image_pinned_by_id_writes_output_as_the_container_user_and_its_logs_are_streamed_and_kept()
    {
        using var runner = engine.NewRunner();
        using var work = new WorkFolder();
        File.WriteAllText(Path.Combine(work.Input, "a.dcm"), "a");
        Directory.CreateDirectory(Path.Combine(work.Input, "series1"));
        File.WriteAllText(Path.Combine(work.Input, "series1", "b.dcm"), "b");

        var image = await runner.InspectImageAsync(DockerTestEngine.Image("succeed"));
        Assert.NotNull(image);
        Assert.StartsWith("sha256:", image.Id);
        using (var manifest = JsonDocument.Parse(image.AlgorithmManifestJson ?? throw new Xunit.Sdk.XunitException("no org.kaapana.algorithm label")))
        {
            Assert.Equal("kaapana-test-succeed", manifest.RootElement.GetProperty("name").GetString());
        }

        var live = new ConcurrentQueue<ContainerLogLine>();
        var spec = work.Spec(image.PinnedReference) with { Environment = new Dictionary<string, string> { ["KAAPANA_TEST_MESSAGE"] = "hello from the test" } };
        var result = await runner.RunAsync(spec, (line, _) =>
        {
            live.Enqueue(line);
            return ValueTask.CompletedTask;
        });

        Assert.Equal(ContainerOutcome.Succeeded, result.Outcome);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(image.Id, result.ImageId);
        Assert.False(result.OutOfMemory);
        Assert.True(result.FinishedAt >= result.StartedAt);

        var user = ContainerUser.Resolve(null);
        Assert.NotEqual(0u, user.Uid);
        var resultFile = Path.Combine(work.Output, "result.txt");
        Assert.Equal(["uid=" + user.Uid + " gid=" + user.Gid, "inputs=2", "message=hello from the test"], File.ReadAllLines(resultFile));
        var owner = await Peers.RunAsync(Peers.Require("stat", "coreutils"), ["-c", "%u:%g", resultFile]);
        Assert.Equal(user.ToString(), owner.EnsureSuccess("stat").Stdout.Trim());

        Assert.Equal(["succeed: starting as " + user, "succeed: found 2 input files", "succeed: done"], result.Logs.Stdout.Select(l => l.Text));
        Assert.Equal(["succeed: a note on stderr"], result.Logs.Stderr.Select(l => l.Text));
        Assert.Equal(4, result.Logs.TotalLines);
        Assert.Equal(0, result.Logs.DroppedLines);
        Assert.Equal(result.Logs.Merged.Select(l => (l.Stream, l.Text)), live.OrderBy(l => l.Number).Select(l => (l.Stream, l.Text)));

        await AssertGoneAsync(runner, result.ContainerId);
    }

    [Fact]
    public async Task Failing_image_reports_its_exit_code_and_stderr()
    {
        using var runner = engine.NewRunner();
        using var work = new WorkFolder();

        var result = await runner.RunAsync(work.Spec(DockerTestEngine.Image("fail")));

        Assert.Equal(ContainerOutcome.Failed, result.Outcome);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("fail: cannot read input: no such series", result.Logs.Text(ContainerLogStream.Stderr));
        Assert.Equal("fail: starting", result.Logs.Text(ContainerLogStream.Stdout));
        await AssertGoneAsync(runner, result.ContainerId);
    }

    [Fact]
    public async Task Silent_image_that_exits_at_once_succeeds_with_empty_logs()
    {
        using var runner = engine.NewRunner();
        using var work = new WorkFolder();
        var calls = 0;

        var result = await runner.RunAsync(work.Spec(DockerTestEngine.Image("trivial")), (_, _) =>
        {
            calls++;
            return ValueTask.CompletedTask;
        });

        Assert.Equal(ContainerOutcome.Succeeded, result.Outcome);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal((0, 0L, 0L), (calls, result.Logs.TotalLines, result.Logs.TotalBytes));
        Assert.Empty(Directory.GetFileSystemEntries(work.Output));
        await AssertGoneAsync(runner, result.ContainerId);
    }

    [Fact]
    public async Task Hanging_image_is_killed_at_its_timeout_and_removed()
    {
        // A request timeout shorter than the run: waiting for the exit and the log stream must not be bound by it.
        using var runner = engine.NewRunner(o => o.RequestTimeout = TimeSpan.FromSeconds(1));
        using var work = new WorkFolder();

        var result = await runner.RunAsync(work.Spec(DockerTestEngine.Image("hang")) with { Timeout = TimeSpan.FromSeconds(3) });

        Assert.Equal(ContainerOutcome.TimedOut, result.Outcome);
        Assert.Null(result.ExitCode);
        Assert.Equal("hang: sleeping forever", result.Logs.Text());
        Assert.True(result.FinishedAt - result.StartedAt >= TimeSpan.FromSeconds(2.5), $"stopped after {result.FinishedAt - result.StartedAt}");
        await AssertGoneAsync(runner, result.ContainerId);
    }

    [Fact]
    public async Task Cancelling_mid_run_kills_and_removes_the_container()
    {
        using var runner = engine.NewRunner();
        using var work = new WorkFolder();
        using var cancel = new CancellationTokenSource();
        var spec = work.Spec(DockerTestEngine.Image("hang"));
        IReadOnlyList<ManagedContainer>? whileRunning = null;

        // Cancel from the live log callback: the first line proves the container runs and its output streams live.
        var result = await runner.RunAsync(spec, async (line, _) =>
        {
            whileRunning = await runner.ListContainersAsync();
            await cancel.CancelAsync();
        }, cancel.Token);

        Assert.Equal(ContainerOutcome.Cancelled, result.Outcome);
        Assert.Null(result.ExitCode);
        var running = Assert.Single(whileRunning!);
        Assert.Equal((result.ContainerId, spec.RunId, spec.ItemId, "running"), (running.ContainerId, running.RunId, running.ItemId, running.State));
        await AssertGoneAsync(runner, result.ContainerId);
    }

    [Fact]
    public async Task Flooding_image_completes_with_a_bounded_tail_and_bounded_server_memory()
    {
        const int tailLines = 200;
        using var runner = engine.NewRunner(o => o.LogTailLines = tailLines);
        using var work = new WorkFolder();
        const long floodBytes = 50L * 1024 * 1024;
        const long floodLines = floodBytes / 100;

        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long seen = 0, peakLive = 0, samples = 0;
        var result = await runner.RunAsync(work.Spec(DockerTestEngine.Image("flood")), (line, _) =>
        {
            // A full collection now and then measures what the server holds mid-flood (not the garbage it made).
            if (++seen % 100_000 == 0)
            {
                peakLive = Math.Max(peakLive, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                samples++;
            }
            return ValueTask.CompletedTask;
        });

        Assert.Equal(ContainerOutcome.Succeeded, result.Outcome);
        Assert.Equal(floodLines, seen);
        Assert.Equal(floodLines, result.Logs.TotalLines);
        Assert.Equal(floodBytes, result.Logs.TotalBytes);
        Assert.Equal(tailLines, result.Logs.Stdout.Count);
        Assert.Equal(floodLines - tailLines, result.Logs.DroppedLines);
        Assert.Equal(floodLines - 1, result.Logs.Stdout[^1].Number);
        Assert.All(result.Logs.Stdout, l => Assert.Equal("flood " + new string('x', 93), l.Text));
        Assert.True(samples >= floodLines / 100_000, "memory was not sampled");
        Assert.True(peakLive < 16L * 1024 * 1024, $"the server held {peakLive / 1024 / 1024} MB while a container printed {floodBytes / 1024 / 1024} MB");
        await AssertGoneAsync(runner, result.ContainerId);
    }

    [Fact]
    public async Task Long_lines_are_cut_at_the_line_limit_and_CRLF_and_a_missing_final_newline_are_handled()
    {
        using var runner = engine.NewRunner(o => o.MaxLogLineBytes = 1000);
        using var work = new WorkFolder();
        var spec = work.Spec(DockerTestEngine.Image("succeed")) with
        {
            Entrypoint = ["/bin/sh", "-c", "head -c 2500 /dev/zero | tr '\\0' a; echo; printf 'dos\\r\\n'; printf 'no newline'"],
        };

        var result = await runner.RunAsync(spec);

        Assert.Equal(ContainerOutcome.Succeeded, result.Outcome);
        Assert.Equal([new string('a', 1000), new string('a', 1000), new string('a', 500), "dos", "no newline"], result.Logs.Stdout.Select(l => l.Text));
        Assert.Equal(2500 + 1 + 5 + 10, result.Logs.TotalBytes);
    }

    [Fact]
    public async Task Missing_image_is_an_engine_error_naming_the_image_and_leaves_no_container()
    {
        using var runner = engine.NewRunner();
        using var work = new WorkFolder();

        Assert.Null(await runner.InspectImageAsync("kaapana-test/does-not-exist:latest"));
        var e = await Assert.ThrowsAsync<ContainerEngineException>(() => runner.RunAsync(work.Spec("kaapana-test/does-not-exist:latest")));
        Assert.Contains("kaapana-test/does-not-exist", e.Message);
        Assert.Contains("No such image", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await runner.ListContainersAsync());
    }

    private async Task AssertGoneAsync(IContainerRunner runner, string containerId)
    {
        Assert.False(string.IsNullOrEmpty(containerId));
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => engine.Client.Containers.InspectContainerAsync(containerId));
        Assert.Empty(await runner.ListContainersAsync());
    }
}
