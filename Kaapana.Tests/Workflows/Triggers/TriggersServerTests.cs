using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Workflows.Docker;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Workflows.Triggers;

/// <summary>Auto-triggers on the real server process: series pushed with DCMTK storescu, runs on the test Docker daemon.</summary>
[Collection(DockerCollection.Name)]
public class TriggersServerTests(DockerTestEngine docker)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>Writes a series of <paramref name="count"/> instances into a fresh folder and returns it with the instance files.</summary>
    private static (string Folder, List<string> Files) WriteSeries(string root, string study, string series, string modality, int count)
    {
        var folder = Path.Combine(root, series);
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        for (int i = 1; i <= count; i++)
        {
            var file = Path.Combine(folder, $"{i}.dcm");
            File.WriteAllBytes(file, TestInstances.Create(new TestInstances.Spec("TRIGGER", "Trigger^Push", study, series, TestInstances.NewUid(), Modality: modality, InstanceNumber: i)));
            files.Add(file);
        }
        return (folder, files);
    }

    private static async Task StoreAsync(KaapanaServer server, params string[] paths)
    {
        var r = await DicomTools.RunAsync("storescu", ["-v", "-aec", "KAAPANA", "+sd", "127.0.0.1", server.DicomPort.ToString(CultureInfo.InvariantCulture), .. paths]);
        Assert.True(r.ExitCode == 0, $"storescu: {r}");
    }

    private static async Task<List<JsonObject>> RunsAsync(HttpClient http) =>
        (await http.GetFromJsonAsync<JsonArray>("/api/runs?limit=1000"))!.Select(n => n!.AsObject()).ToList();

    private static async Task<JsonObject> RuleAsync(HttpClient http, long id) => (await http.GetFromJsonAsync<JsonObject>($"/api/triggers/{id}"))!;

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what, KaapanaServer server) where T : class
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            if (await probe() is { } found) return found;
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}\n{server.Output}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task A_CT_series_pushed_with_storescu_starts_a_run_of_its_rule_once_and_MR_and_disabled_rules_do_not_fire()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-triggers-server-").FullName;
        var sendDir = Directory.CreateTempSubdirectory("kaapana-triggers-send-").FullName;
        var instanceId = "kaapana-trigger-server-" + Guid.NewGuid().ToString("N");
        using var containers = docker.NewRunner(o => o.InstanceId = instanceId);
        try
        {
            await using var server = await KaapanaServer.StartAsync(dataDir, new Dictionary<string, string>
            {
                ["Kaapana__Docker__Endpoint"] = docker.Endpoint,
                ["Kaapana__Docker__InstanceId"] = instanceId,
                ["Kaapana__Archive__SeriesQuietPeriod"] = "00:00:01",
            });
            using var http = server.CreateClient();
            var register = await http.PostAsJsonAsync("/api/algorithms", new
            {
                image = DockerTestEngine.Image("trivial"),
                manifest = JsonNode.Parse("""{"name":"trigger-trivial","version":"1.0.0","input":{"scope":"series","modalities":["CT"]},"outputs":[]}"""),
            });
            var algorithm = (await register.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.True(register.StatusCode == HttpStatusCode.Created, algorithm.ToJsonString());
            int algorithmId = algorithm["id"]!.GetValue<int>();
            var anyRegister = await http.PostAsJsonAsync("/api/algorithms", new
            {
                image = DockerTestEngine.Image("trivial"),
                manifest = JsonNode.Parse("""{"name":"trigger-trivial-any","version":"1.0.0","input":{"scope":"series"},"outputs":[]}"""),
            });
            Assert.Equal(HttpStatusCode.Created, anyRegister.StatusCode);
            int anyAlgorithmId = (await anyRegister.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();

            // Bad rules: 400 with every problem in words.
            var bad = await http.PostAsJsonAsync("/api/triggers", new { name = "", project = "nowhere", filters = new Dictionary<string, string[]> { ["Modalty"] = ["CT"] }, algorithmId, parameters = new { x = 1 } });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var problem = await bad.Content.ReadAsStringAsync();
            foreach (var expected in new[] { "name: required", "no project 'nowhere'", "filter Modalty", "x: unknown parameter" }) Assert.Contains(expected, problem);
            Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/triggers", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"))).StatusCode);

            var create = await http.PostAsJsonAsync("/api/triggers", new { name = "CT on arrival", project = "default", filters = new { Modality = new[] { "CT" } }, algorithmId });
            var rule = (await create.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.True(create.StatusCode == HttpStatusCode.Created, rule.ToJsonString());
            long ruleId = rule["id"]!.GetValue<long>();
            Assert.Equal("admin", rule["createdBy"]!.GetValue<string>()); // the signed-in user
            var disabled = (await (await http.PostAsJsonAsync("/api/triggers", new { name = "CT, switched off", project = "default", filters = new { Modality = new[] { "CT" } }, algorithmId })).Content.ReadFromJsonAsync<JsonObject>())!;
            long disabledId = disabled["id"]!.GetValue<long>();
            Assert.False((await (await http.PostAsync($"/api/triggers/{disabledId}/disable", null)).Content.ReadFromJsonAsync<JsonObject>())!["enabled"]!.GetValue<bool>());
            var mrWatch = (await (await http.PostAsJsonAsync("/api/triggers", new { name = "MR watch", project = "default", filters = new { Modality = new[] { "MR" } }, algorithmId = anyAlgorithmId })).Content.ReadFromJsonAsync<JsonObject>())!;

            // A CT series arrives over DICOM: a run on it appears without anyone launching it, carrying the rule, and succeeds.
            var study = TestInstances.NewUid();
            var ct = TestInstances.NewUid();
            var (ctFolder, ctFiles) = WriteSeries(sendDir, study, ct, "CT", 3);
            await StoreAsync(server, ctFolder);
            var run = await WaitForAsync(async () => (await RunsAsync(http)).FirstOrDefault(r => r["triggerRuleId"]?.GetValue<int>() == ruleId), "the triggered run", server);
            long runId = run["id"]!.GetValue<long>();
            Assert.Equal([ct], run["seriesSelection"]!.AsArray().Select(n => n!.GetValue<string>()));
            var ended = await WaitForAsync(async () =>
            {
                var r = (await http.GetFromJsonAsync<JsonObject>($"/api/runs/{runId}"))!;
                return r["state"]!.ToString() is "Queued" or "Running" ? null : r;
            }, "the triggered run to end", server);
            Assert.True(ended["state"]!.ToString() == "Succeeded", ended.ToJsonString());
            Assert.Equal(ct, ended["items"]!.AsArray().Single()!["key"]!.GetValue<string>());
            var view = await RuleAsync(http, ruleId);
            Assert.Equal(1, view["firings"]!.GetValue<int>());
            Assert.Equal(runId, view["lastFiring"]!["runId"]!.GetValue<long>());

            // A late instance reopens the CT series and it completes again: the rule does not fire a second time.
            DateTime CompletedAt() { using var db = server.OpenIndex(); return db.Series.AsNoTracking().Single(s => s.SeriesInstanceUID == ct).CompletedAt!.Value; }
            var firstCompletion = CompletedAt();
            await StoreAsync(server, ctFiles[0]);
            var late = WriteSeries(Path.Combine(sendDir, "late"), study, ct, "CT", 1);
            File.Move(late.Files[0], late.Files[0] + ".4.dcm");
            await StoreAsync(server, late.Files[0] + ".4.dcm");
            await WaitForAsync(async () =>
            {
                await Task.CompletedTask;
                using var db = server.OpenIndex();
                return db.Series.AsNoTracking().Any(s => s.SeriesInstanceUID == ct && s.IsComplete && s.CompletedAt > firstCompletion) ? "" : null;
            }, "the CT series to complete again", server);

            // An MR series sent after that: it does not match the CT rule, and its firing of "MR watch" shows that every earlier
            // completion has been handled (series complete and fire one at a time).
            var mr = TestInstances.NewUid();
            await StoreAsync(server, WriteSeries(sendDir, study, mr, "MR", 2).Folder);
            var mrView = await WaitForAsync(async () =>
            {
                var v = await RuleAsync(http, mrWatch["id"]!.GetValue<long>());
                // A firing is claimed first and gets its run a moment later.
                return v["lastFiring"] is JsonObject f && (f["runId"] is not null || f["error"] is not null) ? v : null;
            }, "the MR series to be handled", server);
            Assert.Equal(mr, mrView["lastFiring"]!["seriesInstanceUID"]!.GetValue<string>());
            Assert.True(mrView["lastFiring"]!["runId"] is not null, mrView.ToJsonString());

            var runs = await RunsAsync(http);
            Assert.Single(runs, r => r["triggerRuleId"]?.GetValue<int>() == ruleId);
            Assert.DoesNotContain(runs, r => r["triggerRuleId"]?.GetValue<int>() == disabledId);
            Assert.Single(runs, r => r["seriesSelection"]?.AsArray().Any(n => n!.GetValue<string>() == mr) == true); // MR watch's, not the CT rule's
            Assert.Equal(1, (await RuleAsync(http, ruleId))["firings"]!.GetValue<int>());
            Assert.Equal(0, (await RuleAsync(http, disabledId))["firings"]!.GetValue<int>());
            var firings = (await http.GetFromJsonAsync<JsonArray>($"/api/triggers/{ruleId}/firings"))!;
            Assert.Equal(ct, firings.Single()!["seriesInstanceUID"]!.GetValue<string>());

            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/triggers/{disabledId}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/triggers/{disabledId}")).StatusCode);
            // The MR watch's run may still be in its container: every run ends and leaves none behind.
            await WaitForAsync(async () => (await containers.ListContainersAsync()).Count == 0 ? "none" : null, "every run's container to be removed", server);
        }
        finally
        {
            foreach (var c in await containers.ReconcileAsync(new HashSet<string>())) { }
            Directory.Delete(dataDir, recursive: true);
            Directory.Delete(sendDir, recursive: true);
        }
    }
}
