using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.Workflows.BuiltIn;

/// <summary>The built-ins over the REST API of the real server process, with no Docker engine at its endpoint.</summary>
[Collection(BuiltInCollection.Name)]
public class BuiltInServerTests
{
    [Fact]
    public async Task Without_docker_the_builtins_are_listed_and_a_zip_export_runs_to_a_downloadable_artifact()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-builtin-server-").FullName;
        try
        {
            await using var server = await KaapanaServer.StartAsync(dataDir, new Dictionary<string, string>
            {
                ["Kaapana__Docker__Endpoint"] = $"unix:///tmp/no-docker-{Guid.NewGuid():N}.sock",
            });
            using var http = server.CreateClient();
            Assert.False((await http.GetFromJsonAsync<JsonObject>("/api/workflows/engine"))!["available"]!.GetValue<bool>());

            var algorithms = (await http.GetFromJsonAsync<JsonArray>("/api/algorithms"))!;
            var builtIns = algorithms.Where(a => a!["kind"]!.ToString() is "BuiltIn" or "1").Select(a => a!["name"]!.GetValue<string>()).Order().ToList();
            Assert.Equal(["builtin/deidentify", "builtin/delete-series", "builtin/send-to-node", "builtin/zip-export"], builtIns);
            var deid = algorithms.Single(a => a!["name"]!.GetValue<string>() == "builtin/deidentify")!;
            Assert.Equal(["targetProject", "retainDates", "retainDeviceIdentity"],
                deid["manifest"]!["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));

            // A container image's manifest may not take a built-in's name.
            var squat = await http.PostAsJsonAsync("/api/algorithms", new { image = "x:1", manifest = JsonNode.Parse("""{"name":"builtin/zip-export","version":"9"}""") });
            Assert.Equal(HttpStatusCode.BadRequest, squat.StatusCode);
            Assert.Contains("reserved", await squat.Content.ReadAsStringAsync());

            var study = TestInstances.NewUid();
            var series = TestInstances.NewUid();
            using var form = new MultipartFormDataContent();
            for (int i = 1; i <= 3; i++)
            {
                var part = new ByteArrayContent(TestInstances.Create(new TestInstances.Spec("ZIP", "Zip^Test", study, series, TestInstances.NewUid(), InstanceNumber: i)));
                part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
                form.Add(part, "files", $"{i}.dcm");
            }
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/uploads?project=default", form)).StatusCode);

            var zipId = algorithms.Single(a => a!["name"]!.GetValue<string>() == "builtin/zip-export")!["id"]!.GetValue<int>();
            var create = await http.PostAsJsonAsync("/api/runs", new { algorithmId = zipId, series = new[] { series }, project = "default" });
            var run = await create.Content.ReadFromJsonAsync<JsonObject>();
            Assert.True(create.StatusCode == HttpStatusCode.Created, run?.ToJsonString());
            var runId = run!["id"]!.GetValue<long>();

            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                run = (await http.GetFromJsonAsync<JsonObject>($"/api/runs/{runId}"))!;
                if (run["state"]!.ToString() is "Succeeded" or "Failed" or "Cancelled" or "TimedOut") break;
                Assert.True(DateTime.UtcNow < deadline, $"run did not end: {run.ToJsonString()}\n{server.Output}");
                await Task.Delay(200);
            }
            Assert.True(run["state"]!.ToString() == "Succeeded", run.ToJsonString());

            var results = (await http.GetFromJsonAsync<JsonObject>($"/api/runs/{runId}/results"))!;
            var artifact = Assert.Single(results["artifacts"]!.AsArray())!;
            Assert.Equal("export.zip", artifact["name"]!.GetValue<string>());
            var zip = await http.GetByteArrayAsync(artifact["download"]!.GetValue<string>());
            using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(zip));
            Assert.Equal(3, archive.Entries.Count);
            var log = await http.GetStringAsync($"/api/runs/{runId}/items/{run["items"]![0]!["id"]}/log");
            Assert.Contains("built-in builtin/zip-export", log);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
