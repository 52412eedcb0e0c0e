using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using static Kaapana.Tests.Access.Matrix.AccessMatrixFixture;
using static Kaapana.Tests.Access.Matrix.MatrixHttp;

namespace Kaapana.Tests.Access.Matrix;

/// <summary>
/// The workflow door: algorithms, runs (launch, cancel, retry, re-run, detail, log, metrics, results, artifacts), built-ins with
/// their own rules (de-identify, delete-series), trigger rules and the <c>/hubs/runs</c> event stream, for every role. Runs use
/// the built-in <c>builtin/zip-export</c>, which needs no container engine and changes no stored data.
/// </summary>
[Collection(AccessMatrixCollection.Name)]
public sealed class WorkflowDoorTests(AccessMatrixFixture m)
{
    private const string Door = "workflows";

    private async Task<int> AlgorithmAsync(string name) =>
        (await m.GetAsync(Admin, "/api/algorithms")).Body.Json().EnumerateArray().Single(a => a.GetProperty("name").GetString() == name).GetProperty("id").GetInt32();

    private async Task<(HttpStatusCode Status, string Body)> LaunchAsync(string user, string algorithm, IReadOnlyList<string> series, string project,
        object? parameters = null) =>
        await m.PostAsync(user, "/api/runs", new { algorithmId = await AlgorithmAsync(algorithm), series, project, parameters });

    private async Task<JsonElement> WaitForRunAsync(long id)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var run = (await m.GetAsync(Admin, $"/api/runs/{id}")).Body.Json();
            if (run.GetProperty("state").GetString() is "Succeeded" or "Failed" or "Cancelled" or "TimedOut") return run;
            if (DateTime.UtcNow > until) Assert.Fail($"run {id} did not end: {run}\n{m.Server.Output}");
            await Task.Delay(200);
        }
    }

    /// <summary>A finished zip-export run in alpha, launched by alpha's researcher.</summary>
    private async Task<JsonElement> AlphaRunAsync()
    {
        var (status, body) = await LaunchAsync(AlphaResearcher, "builtin/zip-export", m.Alpha.SeriesUids, "alpha");
        Assert.True(status == HttpStatusCode.Created, body);
        var run = await WaitForRunAsync(body.Json().GetProperty("id").GetInt64());
        Assert.Equal("Succeeded", run.GetProperty("state").GetString());
        return run;
    }

    [Fact]
    public async Task Every_signed_in_user_lists_algorithms_and_only_site_admins_register_them()
    {
        foreach (var user in Roles.Where(r => r != Anonymous))
        {
            var (status, body) = await m.GetAsync(user, "/api/algorithms");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Contains("builtin/zip-export", body);
            CountAllowed(Door + "/algorithms");
        }
        var anonymous = await m.GetAsync(Anonymous, "/api/algorithms");
        AssertDenied(Door + "/algorithms", anonymous.Status, anonymous.Body, m.Beta, allowed: HttpStatusCode.Unauthorized);
        foreach (var user in new[] { AlphaResearcher, AlphaProjectAdmin, Outsider })
        {
            var (status, body) = await m.PostAsync(user, "/api/algorithms", new { image = "example.org/whatever:1" });
            AssertDenied(Door + "/algorithms register", status, body, m.Beta, allowed: HttpStatusCode.Forbidden);
        }
    }

    [Theory]
    [InlineData(AlphaViewer, HttpStatusCode.Forbidden)]
    [InlineData(AlphaResearcher, HttpStatusCode.Created)]
    [InlineData(AlphaProjectAdmin, HttpStatusCode.Created)]
    [InlineData(BetaResearcher, HttpStatusCode.BadRequest)]
    [InlineData(Outsider, HttpStatusCode.BadRequest)]
    [InlineData(Admin, HttpStatusCode.Created)]
    [InlineData(Anonymous, HttpStatusCode.Unauthorized)]
    public async Task Launching_a_run_on_alpha_series_needs_run_in_alpha(string user, HttpStatusCode expected)
    {
        var (status, body) = await LaunchAsync(user, "builtin/zip-export", m.Alpha.SeriesUids, "alpha");
        if (expected == HttpStatusCode.Created)
        {
            Assert.True(status == HttpStatusCode.Created, body);
            var id = body.Json().GetProperty("id").GetInt64();
            Assert.Equal("Succeeded", (await WaitForRunAsync(id)).GetProperty("state").GetString());
            CountAllowed(Door + "/runs launch");
            await AuditTrailPoll.WaitAsync(m.Server.CreateClient(), "action=run.launched", items => items.Any(e => e.GetProperty("target").GetString() == $"run:{id}"
                && e.GetProperty("actor").GetString() == user && e.GetProperty("details").GetString()!.Contains("builtin/zip-export")), () => m.Server.Output);
            return;
        }
        if (expected == HttpStatusCode.BadRequest)
        {
            // alpha is to them what a project that does not exist is.
            var missing = await LaunchAsync(user, "builtin/zip-export", m.Alpha.SeriesUids, "no-such-project");
            Assert.Equal(missing.Status, status);
            Assert.Equal(missing.Body.Replace("no-such-project", "#"), body.Replace("alpha", "#"));
        }
        AssertDenied(Door + "/runs launch", status, body, m.Alpha, allowed: expected);
        if (expected == HttpStatusCode.Forbidden)
            await AuditTrailPoll.WaitAsync(m.Server.CreateClient(), "action=run.launched", items => items.Any(e => e.GetProperty("actor").GetString() == user
                && e.GetProperty("outcome").GetString() == "denied"), () => m.Server.Output);
    }

    [Fact]
    public async Task A_dataset_version_of_alpha_is_launched_on_only_by_alpha_runners_and_is_nonexistent_to_others()
    {
        var name = $"wf-{Guid.NewGuid():N}"[..16];
        int id = (await m.PostAsync(Admin, "/api/projects/alpha/datasets", new { name })).Body.Json().GetProperty("id").GetInt32();
        try
        {
            await m.PostAsync(Admin, $"/api/datasets/{id}/series", new { seriesInstanceUIDs = m.Alpha.SeriesUids });
            var version = (await m.PostAsync(Admin, $"/api/datasets/{id}/versions", new { })).Body.Json().GetProperty("id").GetInt64();
            var zip = await AlgorithmAsync("builtin/zip-export");
            var hidden = await m.PostAsync(BetaResearcher, "/api/runs", new { algorithmId = zip, datasetVersionId = version });
            var missing = await m.PostAsync(BetaResearcher, "/api/runs", new { algorithmId = zip, datasetVersionId = MissingId });
            Assert.Equal(missing.Status, hidden.Status);
            Assert.Equal(Anonymize(missing.Body, MissingId.ToString()), Anonymize(hidden.Body, version.ToString()));
            AssertDenied(Door + "/runs launch", hidden.Status, hidden.Body, m.Alpha, [name], HttpStatusCode.BadRequest);
            var viewer = await m.PostAsync(AlphaViewer, "/api/runs", new { algorithmId = zip, datasetVersionId = version });
            AssertDenied(Door + "/runs launch", viewer.Status, viewer.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
            var ok = await m.PostAsync(AlphaResearcher, "/api/runs", new { algorithmId = zip, datasetVersionId = version });
            Assert.True(ok.Status == HttpStatusCode.Created, ok.Body);
            await WaitForRunAsync(ok.Body.Json().GetProperty("id").GetInt64());
            CountAllowed(Door + "/runs launch");
        }
        finally
        {
            await m.CallAsync(Admin, HttpMethod.Delete, $"/api/datasets/{id}");
        }
    }

    [Fact]
    public async Task Run_details_results_and_commands_follow_the_runs_project()
    {
        var run = await AlphaRunAsync();
        long id = run.GetProperty("id").GetInt64();
        long item = run.GetProperty("items")[0].GetProperty("id").GetInt64();
        var results = await m.GetAsync(AlphaViewer, $"/api/runs/{id}/results");
        Assert.Equal(HttpStatusCode.OK, results.Status);
        long artifact = results.Body.Json().GetProperty("artifacts")[0].GetProperty("id").GetInt64();
        string[] reads = [$"/api/runs/{{0}}", "/api/runs/{0}/metrics", "/api/runs/{0}/metrics.csv", "/api/runs/{0}/results",
            $"/api/runs/{{0}}/artifacts/{artifact}", $"/api/runs/{{0}}/items/{item}/log"];

        foreach (var url in reads)
        {
            var (status, _) = await m.GetAsync(AlphaViewer, string.Format(url, id));
            Assert.True(status == HttpStatusCode.OK, $"{url}: {status}");
            CountAllowed(Door + "/runs read");
        }
        foreach (var user in new[] { BetaResearcher, Outsider })
        {
            foreach (var url in reads)
            {
                var hidden = await m.GetAsync(user, string.Format(url, id));
                var missing = await m.GetAsync(user, string.Format(url, MissingId));
                Assert.Equal(missing.Status, hidden.Status);
                Assert.Equal(Anonymize(missing.Body, MissingId.ToString()), Anonymize(hidden.Body, id.ToString()));
                AssertDenied(Door + url, hidden.Status, hidden.Body, m.Alpha, allowed: HttpStatusCode.NotFound);
            }
            foreach (var command in new[] { "cancel", "retry-failed", "rerun" })
            {
                var hidden = await m.PostAsync(user, $"/api/runs/{id}/{command}");
                var missing = await m.PostAsync(user, $"/api/runs/{MissingId}/{command}");
                Assert.Equal(Anonymize(missing.Body, MissingId.ToString()), Anonymize(hidden.Body, id.ToString()));
                AssertDenied($"{Door}/runs {command}", hidden.Status, hidden.Body, m.Alpha, allowed: HttpStatusCode.NotFound);
            }
            // Nor in the list.
            var list = await m.GetAsync(user, "/api/runs?limit=1000");
            Assert.DoesNotContain(list.Body.Json().EnumerateArray(), r => r.GetProperty("projectId").GetInt32() == m.Alpha.ProjectId);
            AssertNoLeak(Door + "/runs", list.Body, m.Alpha);
        }
        Assert.Equal("[]", (await m.GetAsync(Outsider, "/api/runs")).Body);
        Assert.Contains((await m.GetAsync(AlphaViewer, "/api/runs?limit=1000")).Body.Json().EnumerateArray(), r => r.GetProperty("id").GetInt64() == id);

        foreach (var command in new[] { "cancel", "retry-failed", "rerun" })
        {
            var (status, body) = await m.PostAsync(AlphaViewer, $"/api/runs/{id}/{command}");
            AssertDenied($"{Door}/runs {command}", status, body, m.Beta, allowed: HttpStatusCode.Forbidden);
        }
        // The researcher: re-run works; cancel and retry of a finished, successful run are conflicts (allowed, nothing to do).
        var rerun = await m.PostAsync(AlphaResearcher, $"/api/runs/{id}/rerun");
        Assert.True(rerun.Status == HttpStatusCode.Created, rerun.Body);
        var rerunId = rerun.Body.Json().GetProperty("id").GetInt64();
        await WaitForRunAsync(rerunId);
        Assert.Equal(HttpStatusCode.Conflict, (await m.PostAsync(AlphaResearcher, $"/api/runs/{id}/cancel")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await m.PostAsync(AlphaResearcher, $"/api/runs/{id}/retry-failed")).Status);
        CountAllowed(Door + "/runs commands");
        await AuditTrailPoll.WaitAsync(m.Server.CreateClient(), "action=run.launched", items => items.Any(e => e.GetProperty("target").GetString() == $"run:{rerunId}"
            && e.GetProperty("actor").GetString() == AlphaResearcher), () => m.Server.Output);
    }

    [Fact]
    public async Task Provenance_of_a_series_is_read_through_its_project()
    {
        var hidden = await m.GetAsync(BetaResearcher, $"/api/series/{m.Alpha.SeriesUids[0]}/provenance");
        var missing = await m.GetAsync(BetaResearcher, "/api/series/1.2.3.4.5.6.7.8.9/provenance");
        Assert.Equal(missing, hidden);
        AssertDenied(Door + "/provenance", hidden.Status, hidden.Body, m.Alpha, allowed: HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Deidentify_needs_curate_in_the_target_and_delete_series_needs_manage()
    {
        // Into beta: invisible to alpha's researcher, so answered as a project that does not exist.
        var intoBeta = await LaunchAsync(AlphaResearcher, "builtin/deidentify", m.Alpha.SeriesUids, "alpha", new { targetProject = "beta" });
        var intoNothing = await LaunchAsync(AlphaResearcher, "builtin/deidentify", m.Alpha.SeriesUids, "alpha", new { targetProject = "no-such-project" });
        Assert.Equal(intoNothing.Status, intoBeta.Status);
        Assert.Equal(intoNothing.Body.Replace("no-such-project", "#"), intoBeta.Body.Replace("beta", "#"));
        AssertDenied(Door + "/deidentify", intoBeta.Status, intoBeta.Body, m.Beta, allowed: HttpStatusCode.BadRequest);

        // Into a project where the researcher is only a Viewer: 403.
        var gamma = "gamma-wf";
        using (var admin = m.As(Admin))
            await admin.PostAsync("/api/projects", System.Net.Http.Json.JsonContent.Create(new { name = gamma }));
        Assert.Equal(HttpStatusCode.NoContent, (await m.CallAsync(Admin, HttpMethod.Put, $"/api/projects/{gamma}/members", new { userName = AlphaResearcher, role = "Viewer" })).Status);
        try
        {
            var viewerTarget = await LaunchAsync(AlphaResearcher, "builtin/deidentify", m.Alpha.SeriesUids, "alpha", new { targetProject = gamma });
            AssertDenied(Door + "/deidentify", viewerTarget.Status, viewerTarget.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
        }
        finally
        {
            var members = (await m.GetAsync(Admin, $"/api/projects/{gamma}/members")).Body.Json();
            foreach (var member in members.EnumerateArray())
                await m.CallAsync(Admin, HttpMethod.Delete, $"/api/projects/{gamma}/members/{member.GetProperty("userId").GetString()}");
        }

        var delete = await LaunchAsync(AlphaResearcher, "builtin/delete-series", m.Alpha.SeriesUids, "alpha");
        AssertDenied(Door + "/delete-series", delete.Status, delete.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
        Assert.Equal(m.Alpha.SeriesUids.Count, (await m.GetAsync(Admin, "/api/series?project=alpha&limit=1000")).Body.Json().GetProperty("items").EnumerateArray()
            .Count(s => m.Alpha.SeriesUids.Contains(s.GetProperty("seriesInstanceUID").GetString()!)));
    }

    [Fact]
    public async Task Trigger_rules_need_run_in_their_project_and_are_invisible_outside_it()
    {
        var zip = await AlgorithmAsync("builtin/zip-export");
        object Rule(string name, string project) => new { name, project, algorithmId = zip, filters = new Dictionary<string, string[]> { ["Modality"] = ["XX"] }, enabled = false };
        var name = "rule-" + Guid.NewGuid().ToString("N")[..8];

        var viewer = await m.PostAsync(AlphaViewer, "/api/triggers", Rule(name, "alpha"));
        AssertDenied(Door + "/triggers", viewer.Status, viewer.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
        var hiddenCreate = await m.PostAsync(BetaResearcher, "/api/triggers", Rule(name, "alpha"));
        var missingCreate = await m.PostAsync(BetaResearcher, "/api/triggers", Rule(name, "no-such-project"));
        Assert.Equal(missingCreate.Body.Replace("no-such-project", "#"), hiddenCreate.Body.Replace("alpha", "#"));
        AssertDenied(Door + "/triggers", hiddenCreate.Status, hiddenCreate.Body, m.Alpha, allowed: HttpStatusCode.BadRequest);

        var created = await m.PostAsync(AlphaResearcher, "/api/triggers", Rule(name, "alpha"));
        Assert.True(created.Status == HttpStatusCode.Created, created.Body);
        int id = created.Body.Json().GetProperty("id").GetInt32();
        try
        {
            Assert.Contains(name, (await m.GetAsync(AlphaViewer, "/api/triggers")).Body);
            Assert.DoesNotContain(name, (await m.GetAsync(BetaResearcher, "/api/triggers")).Body);
            CountAllowed(Door + "/triggers");
            foreach (var (method, url, body) in new (HttpMethod, string, object?)[]
                     {
                         (HttpMethod.Get, "/api/triggers/{0}", null), (HttpMethod.Get, "/api/triggers/{0}/firings", null),
                         (HttpMethod.Put, "/api/triggers/{0}", Rule(name, "beta")), (HttpMethod.Post, "/api/triggers/{0}/enable", new { }),
                         (HttpMethod.Delete, "/api/triggers/{0}", null),
                     })
            {
                var hidden = await m.CallAsync(BetaResearcher, method, string.Format(url, id), body);
                var missing = await m.CallAsync(BetaResearcher, method, string.Format(url, MissingId), body);
                Assert.Equal(missing.Status, hidden.Status);
                AssertDenied(Door + url, hidden.Status, hidden.Body, m.Alpha, [name], HttpStatusCode.NotFound);
            }
            foreach (var (method, url) in new[] { (HttpMethod.Post, "/api/triggers/{0}/enable"), (HttpMethod.Delete, "/api/triggers/{0}") })
            {
                var r = await m.CallAsync(AlphaViewer, method, string.Format(url, id), method == HttpMethod.Post ? new { } : null);
                AssertDenied(Door + url, r.Status, r.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
            }
            // Moving the rule into beta (invisible to alpha's researcher) is refused as for a nonexistent project.
            var move = await m.CallAsync(AlphaResearcher, HttpMethod.Put, $"/api/triggers/{id}", Rule(name, "beta"));
            AssertDenied(Door + "/triggers", move.Status, move.Body, m.Beta, allowed: HttpStatusCode.BadRequest);
        }
        finally
        {
            Assert.Equal(HttpStatusCode.NoContent, (await m.CallAsync(AlphaResearcher, HttpMethod.Delete, $"/api/triggers/{id}")).Status);
        }
        await AuditTrailPoll.WaitAsync(m.Server.CreateClient(), "action=trigger.rule.changed", items =>
            items.Any(e => e.GetProperty("actor").GetString() == AlphaResearcher && e.GetProperty("target").GetString() == $"trigger:{id}"
                && e.GetProperty("outcome").GetString() == "success") && items.Any(e => e.GetProperty("actor").GetString() == AlphaViewer
                && e.GetProperty("outcome").GetString() == "denied"), () => m.Server.Output);
    }

    /// <summary>The hub: each client receives only the events of runs it may read.</summary>
    [Fact]
    public async Task The_runs_hub_streams_only_events_of_runs_the_client_may_read()
    {
        async Task<HubConnection> ConnectAsync(string user)
        {
            var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(m.Server.BaseAddress, "/hubs/runs"), o => o.Headers["Authorization"] = TestCredentials.Basic(user, Password).ToString())
                .Build();
            await hub.StartAsync();
            return hub;
        }

        await using var alpha = await ConnectAsync(AlphaViewer);
        await using var beta = await ConnectAsync(BetaResearcher);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var alphaEvents = new List<JsonElement>();
        var betaEvents = new List<JsonElement>();
        var alphaDone = new HashSet<long>();
        var betaDone = new HashSet<long>();
        Task Read(HubConnection hub, List<JsonElement> into, HashSet<long> done) => Task.Run(async () =>
        {
            try
            {
                await foreach (var e in hub.StreamAsync<JsonElement>("Events", (long?)null, timeout.Token))
                    lock (into)
                    {
                        into.Add(e.Clone());
                        if (e.GetProperty("kind").GetString() == "runState" && e.GetProperty("state").GetString() is "Succeeded" or "Failed")
                            done.Add(e.GetProperty("runId").GetInt64());
                    }
            }
            catch (OperationCanceledException) { }
        });
        var readers = new[] { Read(alpha, alphaEvents, alphaDone), Read(beta, betaEvents, betaDone) };
        await Task.Delay(500); // the subscription is made when the server receives the invocation

        async Task WaitAsync(List<JsonElement> events, HashSet<long> done, long run)
        {
            while (true)
            {
                lock (events) if (done.Contains(run)) return;
                if (timeout.IsCancellationRequested) Assert.Fail($"no end of run {run} on the hub\n{m.Server.Output}");
                await Task.Delay(100);
            }
        }

        var alphaRun = (await LaunchAsync(AlphaResearcher, "builtin/zip-export", m.Alpha.SeriesUids, "alpha")).Body.Json().GetProperty("id").GetInt64();
        await WaitAsync(alphaEvents, alphaDone, alphaRun);
        var betaRun = (await LaunchAsync(BetaResearcher, "builtin/zip-export", m.Beta.SeriesUids, "beta")).Body.Json().GetProperty("id").GetInt64();
        await WaitAsync(betaEvents, betaDone, betaRun);
        // A second alpha run: once alpha's viewer has its end, anything of the beta run would have reached it before.
        var alphaRun2 = (await LaunchAsync(AlphaResearcher, "builtin/zip-export", m.Alpha.SeriesUids, "alpha")).Body.Json().GetProperty("id").GetInt64();
        await WaitAsync(alphaEvents, alphaDone, alphaRun2);
        await timeout.CancelAsync();
        await Task.WhenAll(readers);

        Assert.DoesNotContain(betaEvents, e => e.GetProperty("runId").GetInt64() is var r && (r == alphaRun || r == alphaRun2));
        Assert.DoesNotContain(alphaEvents, e => e.GetProperty("runId").GetInt64() == betaRun);
        Assert.Contains(alphaEvents, e => e.GetProperty("runId").GetInt64() == alphaRun && e.GetProperty("kind").GetString() == "itemState");
        AssertNoLeak(Door + "/hub", string.Join("\n", betaEvents.Select(e => e.GetRawText())), m.Alpha);
        CountAllowed(Door + "/hub");

        // Without credentials there is no connection at all.
        var anonymous = new HubConnectionBuilder().WithUrl(new Uri(m.Server.BaseAddress, "/hubs/runs")).Build();
        await using (anonymous)
        {
            var ex = await Assert.ThrowsAnyAsync<HttpRequestException>(() => anonymous.StartAsync());
            Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        }
    }
}
