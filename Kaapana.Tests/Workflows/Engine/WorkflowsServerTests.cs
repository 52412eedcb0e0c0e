using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Workflows.Docker;

namespace Kaapana.Tests.Workflows.Engine;

/// <summary>The workflow REST API on the real server process: without Docker, and through a SIGKILL mid-run.</summary>
[Collection(DockerCollection.Name)]
public class WorkflowsServerTests(DockerTestEngine docker)
{
    [Fact]
    public async Task Without_a_docker_engine_the_server_runs_and_workflow_commands_answer_503()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-workflow-nodocker-").FullName;
        try
        {
            await using var server = await KaapanaServer.StartAsync(dataDir, new Dictionary<string, string>
            {
                ["Kaapana__Docker__Endpoint"] = $"unix:///tmp/no-docker-{Guid.NewGuid():N}.sock",
            });
            using var http = server.CreateClient();
            var engine = await http.GetFromJsonAsync<JsonObject>("/api/workflows/engine");
            Assert.False(engine!["available"]!.GetValue<bool>());
            Assert.False(string.IsNullOrEmpty(engine["error"]!.GetValue<string>()));

            var register = await http.PostAsJsonAsync("/api/algorithms", new { image = "kaapana-test/succeed:latest" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, register.StatusCode);
            Assert.Contains("unavailable", await register.Content.ReadAsStringAsync());
            // An unknown algorithm: the seeded built-ins (ids 1-4 here) run without Docker and are not refused.
            var run = await http.PostAsJsonAsync("/api/runs", new { algorithmId = 999, datasetVersionId = 1 });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, run.StatusCode);
            Assert.Contains("no container engine answers", await run.Content.ReadAsStringAsync());

            // Everything that does not need Docker works.
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/algorithms")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/runs")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/runs/42")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/projects")).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("/api/algorithms", new { manifest = new { name = "x" } })).StatusCode);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_run_survives_a_SIGKILL_of_the_server_without_duplicate_series_or_orphan_containers()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-workflow-crash-").FullName;
        var instanceId = "kaapana-engine-crash-" + Guid.NewGuid().ToString("N");
        var settings = new Dictionary<string, string>
        {
            ["Kaapana__Docker__Endpoint"] = docker.Endpoint,
            ["Kaapana__Docker__InstanceId"] = instanceId,
        };
        string image = "";
        using var containers = docker.NewRunner(o => o.InstanceId = instanceId);
        try
        {
            // Two CT series uploaded over REST into the default project.
            var study = TestInstances.NewUid();
            var series = new[] { TestInstances.NewUid(), TestInstances.NewUid() };
            var derived = TestInstances.NewUid();
            image = await DerivedImage.BuildAsync(docker, study, derived, sleepSeconds: 6);
            long runId;
            await using (var server = await KaapanaServer.StartAsync(dataDir, settings))
            {
                using var http = server.CreateClient();
                using var form = new MultipartFormDataContent();
                foreach (var s in series)
                    for (int i = 1; i <= 2; i++)
                    {
                        var part = new ByteArrayContent(TestInstances.Create(new TestInstances.Spec("CRASH", "Crash^Test", study, s, TestInstances.NewUid(), InstanceNumber: i)));
                        part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
                        form.Add(part, "files", $"{s}-{i}.dcm");
                    }
                Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/uploads?project=default", form)).StatusCode);

                var register = await http.PostAsJsonAsync("/api/algorithms", new
                {
                    image,
                    manifest = JsonNode.Parse("""{"name":"slow-derived","version":"1.0.0","input":{"scope":"dataset"},"outputs":["dicom","metrics","files"]}"""),
                });
                var algorithm = await register.Content.ReadFromJsonAsync<JsonObject>();
                Assert.True(register.StatusCode == HttpStatusCode.Created, algorithm?.ToJsonString());
                Assert.StartsWith("sha256:", algorithm!["imageDigest"]!.GetValue<string>());

                var create = await http.PostAsJsonAsync("/api/runs", new { algorithmId = algorithm["id"]!.GetValue<int>(), series, project = "default", requestedBy = "crash-test" });
                var run = await create.Content.ReadFromJsonAsync<JsonObject>();
                Assert.True(create.StatusCode == HttpStatusCode.Created, run?.ToJsonString());
                runId = run!["id"]!.GetValue<long>();

                // The live log of the running item shows the engine's first line before the container has finished.
                var itemId = run["items"]![0]!["id"]!.GetValue<long>();
                using (var live = await http.GetAsync($"/api/runs/{runId}/items/{itemId}/log?follow=true", HttpCompletionOption.ResponseHeadersRead))
                {
                    Assert.Equal(HttpStatusCode.OK, live.StatusCode);
                    using var reader = new StreamReader(await live.Content.ReadAsStreamAsync());
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    var first = await reader.ReadLineAsync(timeout.Token);
                    Assert.Contains($"run {runId} item {itemId}", first);
                }

                // Kill it while the container sleeps.
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while ((await containers.ListContainersAsync()).Count(c => c.State == "running") == 0)
                {
                    Assert.True(DateTime.UtcNow < deadline, "the container did not start: " + server.Output);
                    await Task.Delay(100);
                }
                await server.KillAsync();
            }
            Assert.NotEmpty(await containers.ListContainersAsync()); // left behind by the crash

            await using (var server = await KaapanaServer.StartAsync(dataDir, settings))
            {
                using var http = server.CreateClient();
                JsonObject run;
                var deadline = DateTime.UtcNow.AddSeconds(90);
                while (true)
                {
                    run = (await http.GetFromJsonAsync<JsonObject>($"/api/runs/{runId}"))!;
                    if (run["state"]!.ToString() is "2" or "3" or "4" or "5" or "Succeeded" or "Failed" or "Cancelled" or "TimedOut") break;
                    Assert.True(DateTime.UtcNow < deadline, $"run did not end after the restart: {run.ToJsonString()}\n{server.Output}");
                    await Task.Delay(250);
                }
                var item = run["items"]!.AsArray().Single()!;
                Assert.True(run["state"]!.ToString() is "2" or "Succeeded", run.ToJsonString());
                Assert.Equal(2, item["attempt"]!.GetValue<int>());
                Assert.Empty(await containers.ListContainersAsync());

                var results = (await http.GetFromJsonAsync<JsonObject>($"/api/runs/{runId}/results"))!;
                Assert.Equal(derived, results["derivedSeries"]!.AsArray().Single()!["seriesInstanceUID"]!.GetValue<string>());
                Assert.Single(results["artifacts"]!.AsArray());
                var artifact = await http.GetStringAsync(results["artifacts"]![0]!["download"]!.GetValue<string>());
                Assert.Equal("a file artifact\n", artifact);
                var provenance = (await http.GetFromJsonAsync<JsonObject>($"/api/series/{derived}/provenance"))!;
                Assert.Equal(series.Order(StringComparer.Ordinal), provenance["sourceSeriesInstanceUIDs"]!.AsArray().Select(n => n!.GetValue<string>()));
                Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/series/{series[0]}/provenance")).StatusCode);
                var csv = await http.GetStringAsync($"/api/runs/{runId}/metrics.csv");
                Assert.StartsWith("item,key,voxels,volumeMl,label\r\n", csv);
                var log = await http.GetStringAsync($"/api/runs/{runId}/items/{item["id"]}/log");
                Assert.Contains("copied 4 files", log);
                // Following an ended item returns its whole log and ends.
                Assert.Equal(log, await http.GetStringAsync($"/api/runs/{runId}/items/{item["id"]}/log?follow=true"));

                using var index = server.OpenIndex();
                Assert.Equal(2, index.Instances.Count(i => i.Series.SeriesInstanceUID == derived));
                Assert.Equal(6, index.Instances.Count());
                Assert.Equal(1, index.DerivedSeries.Count());
            }
        }
        finally
        {
            foreach (var c in await containers.ReconcileAsync(new HashSet<string>())) { }
            if (image.Length > 0) await DerivedImage.RemoveAsync(docker, image);
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
