using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Workflows.Docker;
using Microsoft.AspNetCore.SignalR.Client;

namespace Kaapana.Tests.Workflows.Events;

/// <summary>The SignalR hub /hubs/runs on the real server process, with a real container run: what an external client receives.</summary>
[Collection(DockerCollection.Name)]
public sealed class RunsHubTests(DockerTestEngine docker)
{
    [Fact]
    public async Task A_signalr_client_receives_the_item_states_log_lines_and_run_state_of_a_run_as_it_happens()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-runs-hub-").FullName;
        var instanceId = "kaapana-hub-test-" + Guid.NewGuid().ToString("N");
        try
        {
            await using var server = await KaapanaServer.StartAsync(dataDir, new Dictionary<string, string>
            {
                ["Kaapana__Docker__Endpoint"] = docker.Endpoint,
                ["Kaapana__Docker__InstanceId"] = instanceId,
            });
            using var http = server.CreateClient();

            // Two series, so the run has two items.
            var study = TestInstances.NewUid();
            var series = new[] { TestInstances.NewUid(), TestInstances.NewUid() };
            using var form = new MultipartFormDataContent();
            foreach (var s in series)
            {
                var part = new ByteArrayContent(TestInstances.Create(new TestInstances.Spec("HUB", "Hub^Test", study, s, TestInstances.NewUid())));
                part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
                form.Add(part, "files", $"{s}.dcm");
            }
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/uploads?project=default", form)).StatusCode);
            var register = await http.PostAsJsonAsync("/api/algorithms", new { image = DockerTestEngine.Image("succeed") });
            var algorithm = await register.Content.ReadFromJsonAsync<JsonObject>();
            Assert.True(register.IsSuccessStatusCode, algorithm?.ToJsonString());

            await using var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(server.BaseAddress, "/hubs/runs"), o => o.Headers["Authorization"] = TestCredentials.Basic().ToString())
                .Build();
            await hub.StartAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            // Every run's events, subscribed before the run exists, so none is missed.
            var stream = hub.StreamAsync<JsonElement>("Events", (long?)null, timeout.Token);
            var received = new List<JsonElement>();
            long runId = 0;
            var reader = Task.Run(async () =>
            {
                await foreach (var e in stream)
                {
                    lock (received) received.Add(e.Clone());
                    if (e.GetProperty("kind").GetString() == "runState" && e.GetProperty("runId").GetInt64() == Volatile.Read(ref runId)
                        && e.GetProperty("state").GetString() is "Succeeded" or "Failed" or "Cancelled" or "TimedOut")
                        break;
                }
            });
            await Task.Delay(500); // the stream's subscription is made when the server receives the invocation

            var create = await http.PostAsJsonAsync("/api/runs", new { algorithmId = algorithm!["id"]!.GetValue<int>(), series, project = "default", requestedBy = "hub-test" });
            var run = await create.Content.ReadFromJsonAsync<JsonObject>();
            Assert.True(create.StatusCode == HttpStatusCode.Created, run?.ToJsonString());
            Volatile.Write(ref runId, run!["id"]!.GetValue<long>());
            var itemIds = run["items"]!.AsArray().Select(i => i!["id"]!.GetValue<long>()).ToHashSet();

            await reader.WaitAsync(timeout.Token);
            List<JsonElement> mine;
            lock (received) mine = received.Where(e => e.GetProperty("runId").GetInt64() == runId).ToList();
            string Describe() => string.Join("\n", mine.Select(e => e.GetRawText())) + "\n" + server.Output;

            Assert.Equal("Succeeded", mine[^1].GetProperty("state").GetString());
            foreach (var item in itemIds)
            {
                var states = mine.Where(e => e.GetProperty("kind").GetString() == "itemState" && e.GetProperty("itemId").GetInt64() == item)
                    .Select(e => e.GetProperty("state").GetString()).ToList();
                Assert.True(states.SequenceEqual(["Running", "Succeeded"]), $"item {item}: {string.Join(",", states)}\n{Describe()}");
                var succeeded = mine.Last(e => e.GetProperty("kind").GetString() == "itemState" && e.GetProperty("itemId").GetInt64() == item);
                Assert.Equal(0, succeeded.GetProperty("exitCode").GetInt64());
                var lines = mine.Where(e => e.GetProperty("kind").GetString() == "log" && e.GetProperty("itemId").GetInt64() == item).ToList();
                var lineIndexes = mine.Select((e, i) => (e, i)).Where(x => x.e.GetProperty("kind").GetString() == "log" && x.e.GetProperty("itemId").GetInt64() == item).Select(x => x.i).ToList();
                Assert.Contains(lines, l => l.GetProperty("text").GetString() == "succeed: done" && !l.GetProperty("stderr").GetBoolean());
                Assert.Contains(lines, l => l.GetProperty("text").GetString() == "succeed: a note on stderr" && l.GetProperty("stderr").GetBoolean());
                // Log lines of an item come between its Running and its end.
                int running = mine.FindIndex(e => e.GetProperty("kind").GetString() == "itemState" && e.GetProperty("itemId").GetInt64() == item);
                int ended = mine.FindLastIndex(e => e.GetProperty("kind").GetString() == "itemState" && e.GetProperty("itemId").GetInt64() == item);
                Assert.All(lineIndexes, i => Assert.InRange(i, running, ended));
            }
            Assert.Contains(mine, e => e.GetProperty("kind").GetString() == "runState" && e.GetProperty("state").GetString() == "Running");

            // Without credentials the hub is shut like the API.
            await using var anonymous = new HubConnectionBuilder().WithUrl(new Uri(server.BaseAddress, "/hubs/runs")).Build();
            var refused = await Record.ExceptionAsync(() => anonymous.StartAsync());
            Assert.True(refused is HttpRequestException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.Redirect },
                $"an anonymous client got: {refused?.GetType().Name} {refused?.Message ?? "connected"}");
        }
        finally
        {
            using var runner = docker.NewRunner(o => o.InstanceId = instanceId);
            await runner.ReconcileAsync(new HashSet<string>());
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
