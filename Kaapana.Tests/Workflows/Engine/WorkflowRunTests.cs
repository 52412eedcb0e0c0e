using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Runs;
using Kaapana.Tests.Workflows.Docker;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Workflows.Engine;

/// <summary>Runs of the kaapana-test/* images through the whole engine: Hangfire jobs, staging, the real Docker daemon, results back.</summary>
[Collection(DockerCollection.Name)]
public class WorkflowRunTests(DockerTestEngine docker)
{
    private static string Manifest(string name, string outputs = "[]", string extra = "") =>
        $$"""{"name":"{{name}}","version":"1.0.0","input":{"scope":"series","modalities":["CT"]},"outputs":{{outputs}}{{extra}}}""";

    [Fact]
    public async Task Succeed_on_three_series_gives_three_succeeded_items_with_their_artifacts_and_logs()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        var (version, series, _) = await host.SeedDatasetAsync(3, instances: 2);
        var algorithm = await host.RegisterAsync(DockerTestEngine.Image("succeed"), Manifest("succeed-files", """["files"]"""));
        Assert.StartsWith("sha256:", algorithm.ImageDigest);

        var runId = await host.CreateRunAsync(algorithm.Id, version);
        var (run, items) = await host.WaitForRunAsync(runId);

        Assert.Equal(WorkState.Succeeded, run.State);
        Assert.Equal(3, items.Count);
        Assert.Equal(series.Order(StringComparer.Ordinal), items.Select(i => i.ScopeKey).Order(StringComparer.Ordinal));
        Assert.All(items, i =>
        {
            Assert.Equal(WorkState.Succeeded, i.State);
            Assert.Equal(0, i.ExitCode);
            Assert.Equal(1, i.Attempt);
            Assert.NotNull(i.LogPath);
        });
        Assert.Equal(algorithm.ImageDigest, run.ImageDigest);

        // One result.txt per item, stored under the data folder with its hash; the container saw its 2 DICOM files plus
        // manifest.json and params.json.
        var artifacts = await host.Results.ListArtifactsAsync(runId);
        Assert.Equal(3, artifacts.Count);
        foreach (var a in artifacts)
        {
            Assert.Equal("result.txt", a.Name);
            var path = host.Results.AbsolutePath(a);
            Assert.StartsWith(host.DataDir, path);
            var text = await File.ReadAllTextAsync(path);
            Assert.Contains("inputs=4", text);
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(path))), a.Sha256);
        }

        var log = await File.ReadAllTextAsync((await host.Results.GetLogPathAsync(runId, items[0].Id))!);
        Assert.Contains("succeed: found 4 input files", log);
        Assert.Contains("stderr: succeed: a note on stderr", log);

        // Work folders are gone, and so are the containers.
        Assert.False(Directory.Exists(Path.Combine(host.DataDir, "workflows", "runs", runId.ToString(), "work", items[0].Id.ToString())));
        Assert.Empty(await host.ContainersAsync());
    }

    [Fact]
    public async Task A_failing_image_fails_its_items_with_exit_code_and_stderr()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        var (version, _, _) = await host.SeedDatasetAsync(1);
        var algorithm = await host.RegisterAsync(DockerTestEngine.Image("fail"), Manifest("fail"));
        var (run, items) = await host.WaitForRunAsync(await host.CreateRunAsync(algorithm.Id, version));

        Assert.Equal(WorkState.Failed, run.State);
        var item = Assert.Single(items);
        Assert.Equal(WorkState.Failed, item.State);
        Assert.Equal(3, item.ExitCode);
        Assert.Contains("exited with code 3", item.Error);
        Assert.Contains("fail: cannot read input: no such series", item.Error);
        var log = await File.ReadAllTextAsync((await host.Results.GetLogPathAsync(run.Id, item.Id))!);
        Assert.Contains("stderr: fail: cannot read input: no such series", log);
        Assert.Contains("fail: starting", log);
    }

    [Fact]
    public async Task Garbage_output_fails_the_item_and_nothing_is_ingested()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        var (version, _, _) = await host.SeedDatasetAsync(2);
        int instancesBefore;
        await using (var db = host.CreateDb()) instancesBefore = await db.Instances.CountAsync();
        var algorithm = await host.RegisterAsync(DockerTestEngine.Image("garbage"), Manifest("garbage", """["dicom","files"]"""));
        var (run, items) = await host.WaitForRunAsync(await host.CreateRunAsync(algorithm.Id, version));

        Assert.Equal(WorkState.Failed, run.State);
        Assert.All(items, i =>
        {
            Assert.Equal(WorkState.Failed, i.State);
            Assert.Equal(0, i.ExitCode);
            Assert.Contains("3 output file(s) are not valid DICOM", i.Error);
            Assert.Contains("empty.dcm: empty file", i.Error);
            Assert.Contains("text.dcm:", i.Error);
            Assert.Contains("random.dcm:", i.Error);
        });
        await using var check = host.CreateDb();
        Assert.Equal(instancesBefore, await check.Instances.CountAsync());
        Assert.Empty(await check.DerivedSeries.ToListAsync());
        Assert.Empty(await check.RunArtifacts.ToListAsync());
        Assert.NotNull(run.ResultsDatasetId);
        Assert.Empty(await host.Projects.GetDatasetSeriesAsync(run.ResultsDatasetId!.Value));
    }

    [Fact]
    public async Task A_hanging_image_times_out_and_its_container_is_gone()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        var (version, _, _) = await host.SeedDatasetAsync(1);
        var algorithm = await host.RegisterAsync(DockerTestEngine.Image("hang"), Manifest("hang-2s", extra: ""","resources":{"timeoutSeconds":2}"""));
        var (run, items) = await host.WaitForRunAsync(await host.CreateRunAsync(algorithm.Id, version));

        Assert.Equal(WorkState.TimedOut, run.State);
        Assert.Equal(WorkState.TimedOut, Assert.Single(items).State);
        Assert.Null(items[0].ExitCode);
        Assert.Empty(await host.ContainersAsync());
    }

    [Fact]
    public async Task Cancel_mid_run_kills_running_containers_and_dequeues_the_rest()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        var (version, _, _) = await host.SeedDatasetAsync(4, instances: 1);
        var algorithm = await host.RegisterAsync(DockerTestEngine.Image("hang"), Manifest("hang-forever"));
        var runId = await host.CreateRunAsync(algorithm.Id, version);

        // Two slots: wait until two containers run (the other two items are queued behind them).
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await host.ContainersAsync()).Count(c => c.State == "running") < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "two containers did not start");
            await Task.Delay(200);
        }
        var cancel = await host.Runs.CancelAsync(runId);
        Assert.Equal(RunCommandOutcome.Done, cancel.Outcome);
        var (run, items) = await host.WaitForRunAsync(runId, TimeSpan.FromSeconds(60));

        Assert.Equal(WorkState.Cancelled, run.State);
        Assert.All(items, i => Assert.Equal(WorkState.Cancelled, i.State));
        Assert.Equal(2, items.Count(i => i.Attempt == 1));
        Assert.Equal(2, items.Count(i => i.Attempt == 0));
        Assert.Empty(await host.ContainersAsync());
        Assert.Equal(RunCommandOutcome.Conflict, (await host.Runs.CancelAsync(runId)).Outcome);
    }

    [Fact]
    public async Task Retry_failed_runs_failed_items_again_and_rerun_makes_a_new_run_with_the_same_settings()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        var (version, _, _) = await host.SeedDatasetAsync(2, instances: 1);
        var algorithm = await host.RegisterAsync(DockerTestEngine.Image("fail"),
            Manifest("fail-with-param", extra: ""","retries":1,"parameters":[{"name":"level","type":"integer","default":3,"min":0}]"""));
        var runId = await host.CreateRunAsync(algorithm.Id, version, new JsonObject { ["level"] = 7 });
        var (_, items) = await host.WaitForRunAsync(runId);
        Assert.All(items, i => Assert.Equal((WorkState.Failed, 2), (i.State, i.Attempt))); // first attempt plus the manifest's one retry

        Assert.Equal(RunCommandOutcome.Done, (await host.Runs.RetryFailedAsync(runId)).Outcome);
        (_, items) = await host.WaitForRunAsync(runId);
        // A manual retry is one more attempt each; the manifest's automatic retries belong to the launch.
        Assert.All(items, i => Assert.Equal((WorkState.Failed, 3), (i.State, i.Attempt)));

        var rerun = await host.Runs.RerunAsync(runId);
        Assert.Equal(RunCommandOutcome.Done, rerun.Outcome);
        var (second, secondItems) = await host.WaitForRunAsync(rerun.RunId!.Value);
        var (first, firstItems) = (await host.Runs.GetAsync(runId))!.Value;
        Assert.Equal(runId, second.RerunOf);
        Assert.Equal(first.ImageDigest, second.ImageDigest);
        Assert.Equal(first.ParametersJson, second.ParametersJson);
        Assert.Contains("\"level\":7", second.ParametersJson);
        Assert.Equal(firstItems.Select(i => i.InputJson), secondItems.Select(i => i.InputJson));
    }

    [Fact]
    public async Task Concurrent_roll_ups_as_items_end_together_always_leave_the_run_in_its_final_state()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        var (version, _, _) = await host.SeedDatasetAsync(8, instances: 1);
        var algorithm = await host.RegisterAsync(DockerTestEngine.Image("succeed"), Manifest("succeed-rollup", """["files"]"""));
        var runId = await host.CreateRunAsync(algorithm.Id, version);
        var (_, items) = await host.WaitForRunAsync(runId);
        Assert.Equal(8, items.Count);

        // What workers do when items end at the same moment: each commits its item's state, then rolls the run up. Whatever
        // order the roll-ups run in, the last one must see every item ended.
        for (var round = 0; round < 25; round++)
        {
            await using (var db = host.CreateDb())
                await db.RunItems.Where(i => i.RunId == runId).ExecuteUpdateAsync(u => u.SetProperty(i => i.State, WorkState.Running));
            Assert.Equal(WorkState.Running, await host.Runs.RollUpAsync(runId));
            await Task.WhenAll(items.Select(item => Task.Run(async () =>
            {
                await using (var db = host.CreateDb())
                    await db.RunItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.State, WorkState.Failed));
                await host.Runs.RollUpAsync(runId);
            })));
            var (run, _) = (await host.Runs.GetAsync(runId))!.Value;
            Assert.True(run.State == WorkState.Failed && run.EndedAt is not null, $"round {round}: run {run.State}, ended {run.EndedAt}, all items Failed");
        }
    }

    [Fact]
    public async Task Runs_are_refused_with_reasons()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        var (version, _, _) = await host.SeedDatasetAsync(1, instances: 1);
        var mr = await host.RegisterAsync(DockerTestEngine.Image("succeed"),
            """{"name":"mr-only","version":"1","input":{"modalities":["MR"]},"parameters":[{"name":"k","type":"integer","required":true}]}""");

        var noParam = await host.Runs.CreateAsync(new CreateRunRequest(mr.Id, null, version));
        Assert.Equal(RunCommandOutcome.Invalid, noParam.Outcome);
        Assert.Contains("parameter k: required", noParam.Errors);

        var noMatch = await host.Runs.CreateAsync(new CreateRunRequest(mr.Id, new JsonObject { ["k"] = 1 }, version));
        Assert.Equal(RunCommandOutcome.Invalid, noMatch.Outcome);
        Assert.Contains("modalities MR", noMatch.Errors[0]);

        Assert.Equal(RunCommandOutcome.Invalid, (await host.Runs.CreateAsync(new CreateRunRequest(mr.Id, new JsonObject { ["k"] = 1 }))).Outcome);
        Assert.Equal(RunCommandOutcome.NotFound, (await host.Runs.CreateAsync(new CreateRunRequest(9999, null, version))).Outcome);

        // The label manifest of kaapana-test/succeed registers as is; an image that is not there does not.
        var fromLabel = await host.Algorithms.RegisterAsync(new Kaapana.Core.Workflows.Engine.RegisterAlgorithmRequest(DockerTestEngine.Image("succeed"), null));
        Assert.Equal(Kaapana.Core.Workflows.Engine.RegistrationOutcome.Registered, fromLabel.Outcome);
        Assert.True(fromLabel.Algorithm!.ManifestFromImage);
        Assert.Equal("kaapana-test-succeed", fromLabel.Algorithm.Name);
        var missing = await host.Algorithms.RegisterAsync(new Kaapana.Core.Workflows.Engine.RegisterAlgorithmRequest("kaapana-test/no-such-image:latest", null));
        Assert.Equal(Kaapana.Core.Workflows.Engine.RegistrationOutcome.Invalid, missing.Outcome);
        Assert.Contains("not on the container engine", missing.Errors[0]);
        var noLabel = await host.Algorithms.RegisterAsync(new Kaapana.Core.Workflows.Engine.RegisterAlgorithmRequest(DockerTestEngine.Image("fail"), null));
        Assert.Contains("has no org.kaapana.algorithm label", noLabel.Errors[0]);
    }

    [Theory]
    [InlineData("series", 3)]
    [InlineData("study", 2)]
    [InlineData("dataset", 1)]
    public async Task The_input_scope_decides_how_many_items_and_containers_a_run_has(string scope, int expectedItems)
    {
        await using var host = await WorkflowTestHost.StartAsync(docker);
        var a = await host.SeedDatasetAsync(2, instances: 1);
        var b = await host.SeedDatasetAsync(1, instances: 2);
        var project = (await host.Projects.FindProjectAsync("default"))!;
        var both = await host.Projects.CreateDatasetAsync(project.Id, "both-" + scope + Guid.NewGuid().ToString("N")[..6]);
        await host.Projects.AddSeriesToDatasetAsync(both.Id, [.. a.SeriesUids, .. b.SeriesUids]);
        var version = await host.Projects.FreezeAsync(both.Id);
        var algorithm = await host.RegisterAsync(DockerTestEngine.Image("succeed"),
            $$"""{"name":"succeed-{{scope}}","version":"1","input":{"scope":"{{scope}}"},"outputs":["files"]}""");
        var (run, items) = await host.WaitForRunAsync(await host.CreateRunAsync(algorithm.Id, version.Id));

        Assert.Equal(WorkState.Succeeded, run.State);
        Assert.Equal(expectedItems, items.Count);
        Assert.Equal(4, items.Sum(i => i.InstanceCount));
        // Each container saw exactly its item's files (plus manifest.json and params.json).
        var artifacts = await host.Results.ListArtifactsAsync(run.Id);
        foreach (var item in items)
        {
            var text = await File.ReadAllTextAsync(host.Results.AbsolutePath(artifacts.Single(x => x.RunItemId == item.Id)));
            Assert.Contains($"inputs={item.InstanceCount + 2}", text);
        }
        if (scope == "study") Assert.Equal(new[] { a.StudyUid, b.StudyUid }.Order(StringComparer.Ordinal), items.Select(i => i.ScopeKey).Order(StringComparer.Ordinal));
        if (scope == "dataset") Assert.Equal("dataset", items[0].ScopeKey);
    }

    [Fact]
    public async Task A_flooding_container_gets_a_bounded_log_file()
    {
        await using var host = await WorkflowTestHost.StartAsync(docker, settings: new Dictionary<string, string?> { ["Kaapana:Workflows:MaxLogFileBytes"] = "100000" });
        var (version, _, _) = await host.SeedDatasetAsync(1, instances: 1);
        var algorithm = await host.RegisterAsync(DockerTestEngine.Image("flood"), Manifest("flood"));
        var (run, items) = await host.WaitForRunAsync(await host.CreateRunAsync(algorithm.Id, version));

        Assert.Equal(WorkState.Succeeded, run.State);
        var path = (await host.Results.GetLogPathAsync(run.Id, items[0].Id))!;
        Assert.InRange(new FileInfo(path).Length, 90_000, 101_000);
        var lines = await File.ReadAllLinesAsync(path);
        Assert.StartsWith("[kaapana ", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("flood xxxx", StringComparison.Ordinal));
        Assert.Contains("524288 lines, 52428800 bytes", string.Join('\n', lines)); // the runner counted everything printed
        Assert.Matches(@"^\[kaapana\] log file limit of 100000 bytes reached: \d+ more lines not written$", lines[^1]);
    }
}
