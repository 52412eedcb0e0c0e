using System.Net;
using System.Text.Json;
using static Kaapana.Tests.Access.Matrix.AccessMatrixFixture;
using static Kaapana.Tests.Access.Matrix.MatrixHttp;

namespace Kaapana.Tests.Access.Matrix;

/// <summary>
/// The <c>/api</c> door (archive, datasets, versions, zip exports, tags, uploads, endpoints, remote nodes, series deletion) for
/// every role: allowed calls work, a resource the caller cannot read answers exactly as a nonexistent one, a visible one without
/// the permission answers 403, and nothing of the other project is in any answer. What a test adds (series, datasets, tags,
/// endpoints) it removes again, so the shared fixture's projects look the same to the other door classes.
/// </summary>
[Collection(AccessMatrixCollection.Name)]
public sealed class ApiDoorTests(AccessMatrixFixture m)
{
    private const string Door = "api";

    /// <summary>What each role sees of alpha's and beta's series.</summary>
    [Theory]
    [InlineData(AlphaViewer, true, false)]
    [InlineData(AlphaResearcher, true, false)]
    [InlineData(AlphaProjectAdmin, true, false)]
    [InlineData(BetaResearcher, false, true)]
    [InlineData(Outsider, false, false)]
    [InlineData(Admin, true, true)]
    public async Task Series_search_returns_only_the_series_of_the_callers_projects(string user, bool alpha, bool beta)
    {
        var (status, body) = await m.GetAsync(user, "/api/series?limit=1000");
        Assert.Equal(HttpStatusCode.OK, status);
        var uids = body.Json().GetProperty("items").EnumerateArray().Select(s => s.GetProperty("seriesInstanceUID").GetString()).ToHashSet();
        Assert.Equal(alpha, m.Alpha.SeriesUids.All(uids.Contains));
        Assert.Equal(beta, m.Beta.SeriesUids.All(uids.Contains));
        if (!beta) AssertNoLeak(Door + "/series", body, m.Beta);
        if (!alpha) AssertNoLeak(Door + "/series", body, m.Alpha);
        CountAllowed(Door + "/series");

        // Naming a project one cannot see answers as naming one that does not exist: an empty page, total 0.
        if (!beta)
        {
            var hidden = await m.GetAsync(user, "/api/series?project=beta");
            var missing = await m.GetAsync(user, "/api/series?project=no-such-project");
            Assert.Equal(missing.Body, hidden.Body);
            Assert.Equal(0, hidden.Body.Json().GetProperty("total").GetInt32());
            AssertNoLeak(Door + "/series", hidden.Body, m.Beta);
        }
    }

    [Fact]
    public async Task Anonymous_callers_get_401_from_every_api_door()
    {
        foreach (var url in new[] { "/api/series", "/api/projects/alpha/datasets", "/api/runs", "/api/tags?project=alpha", "/api/endpoints", "/api/nodes" })
        {
            var (status, body) = await m.GetAsync(Anonymous, url);
            AssertDenied(Door + url, status, body, m.Alpha, allowed: HttpStatusCode.Unauthorized);
        }
        var upload = await m.UploadAsync(Anonymous, "alpha");
        AssertDenied(Door + "/uploads", upload.Status, upload.Body, m.Alpha, allowed: HttpStatusCode.Unauthorized);
    }

    /// <summary>Datasets: list, create, add, remove, freeze, version, zip size, zip, delete, for each role on an alpha dataset.</summary>
    [Theory]
    [InlineData(AlphaViewer, false)]
    [InlineData(AlphaResearcher, true)]
    [InlineData(AlphaProjectAdmin, true)]
    [InlineData(Admin, true)]
    public async Task Alpha_members_read_alpha_datasets_and_only_curators_change_them(string user, bool curates)
    {
        var name = $"ds-{user}-{Guid.NewGuid():N}"[..24];
        // The admin makes the dataset (with alpha's first series), so every role starts from the same one.
        var created = await m.PostAsync(Admin, "/api/projects/alpha/datasets", new { name });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        int id = created.Body.Json().GetProperty("id").GetInt32();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await m.PostAsync(Admin, $"/api/datasets/{id}/series", new { seriesInstanceUIDs = new[] { m.Alpha.SeriesUids[0] } })).Status);

            var list = await m.GetAsync(user, "/api/projects/alpha/datasets");
            Assert.Equal(HttpStatusCode.OK, list.Status);
            Assert.Contains(name, list.Body);
            AssertNoLeak(Door + "/datasets", list.Body, m.Beta);
            var size = await m.GetAsync(user, $"/api/datasets/{id}/zip/size");
            Assert.Equal(HttpStatusCode.OK, size.Status);
            Assert.Equal(2, size.Body.Json().GetProperty("instances").GetInt32());
            CountAllowed(Door + "/datasets");

            var create = await m.PostAsync(user, "/api/projects/alpha/datasets", new { name = name + "x" });
            var add = await m.PostAsync(user, $"/api/datasets/{id}/series", new { seriesInstanceUIDs = new[] { m.Alpha.SeriesUids[1] } });
            var remove = await m.PostAsync(user, $"/api/datasets/{id}/series/remove", new { seriesInstanceUIDs = new[] { m.Alpha.SeriesUids[1] } });
            var freeze = await m.PostAsync(user, $"/api/datasets/{id}/versions", new { note = "matrix" });
            if (curates)
            {
                Assert.Equal(HttpStatusCode.Created, create.Status);
                await m.CallAsync(Admin, HttpMethod.Delete, $"/api/datasets/{create.Body.Json().GetProperty("id").GetInt32()}");
                Assert.Equal(1, add.Body.Json().GetProperty("changed").GetInt32());
                Assert.Equal(1, remove.Body.Json().GetProperty("changed").GetInt32());
                Assert.Equal(HttpStatusCode.Created, freeze.Status);
                var version = freeze.Body.Json().GetProperty("id").GetInt64();
                Assert.Equal(HttpStatusCode.OK, (await m.GetAsync(user, $"/api/versions/{version}")).Status);
                using var http = m.Client(user);
                using var zip = await http.GetAsync($"/api/versions/{version}/zip");
                Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
                Assert.Equal("application/zip", zip.Content.Headers.ContentType?.MediaType);
                CountAllowed(Door + "/datasets");

                // A beta series cannot be pulled into an alpha dataset (that would link it into alpha): it is ignored like an unknown UID.
                if (user != Admin)
                {
                    var smuggle = await m.PostAsync(user, $"/api/datasets/{id}/series", new { seriesInstanceUIDs = new[] { m.Beta.SeriesUids[0] } });
                    Assert.Equal(0, smuggle.Body.Json().GetProperty("changed").GetInt32());
                    var alphaSeries = await m.GetAsync(Admin, "/api/series?project=alpha&limit=1000");
                    Assert.DoesNotContain(m.Beta.SeriesUids[0], alphaSeries.Body);
                }

                var audit = m.Server.CreateClient();
                await AuditTrailPoll.WaitAsync(audit, "action=dataset.version.frozen", list => list.Any(e =>
                    e.GetProperty("actor").GetString() == user && e.GetProperty("target").GetString()!.StartsWith($"dataset:{id} ", StringComparison.Ordinal)
                    && e.GetProperty("outcome").GetString() == "success"), () => m.Server.Output);
            }
            else
            {
                foreach (var (what, r) in new[] { ("create", create), ("add", add), ("remove", remove), ("freeze", freeze) })
                    AssertDenied($"{Door}/datasets {what}", r.Status, r.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
                var delete = await m.CallAsync(user, HttpMethod.Delete, $"/api/datasets/{id}");
                AssertDenied(Door + "/datasets delete", delete.Status, delete.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
                var audit = m.Server.CreateClient();
                await AuditTrailPoll.WaitAsync(audit, "action=dataset.version.frozen", list => list.Any(e =>
                    e.GetProperty("actor").GetString() == user && e.GetProperty("outcome").GetString() == "denied"), () => m.Server.Output);
            }
        }
        finally
        {
            await m.CallAsync(Admin, HttpMethod.Delete, $"/api/datasets/{id}");
        }
    }

    /// <summary>An alpha dataset and version, asked for by callers who cannot read alpha: the same answers as ids that do not exist.</summary>
    [Theory]
    [InlineData(BetaResearcher)]
    [InlineData(Outsider)]
    public async Task Alpha_datasets_and_versions_answer_outsiders_as_nonexistent_ones(string user)
    {
        var name = $"hidden-{Guid.NewGuid():N}"[..20];
        var created = await m.PostAsync(Admin, "/api/projects/alpha/datasets", new { name });
        int id = created.Body.Json().GetProperty("id").GetInt32();
        try
        {
            await m.PostAsync(Admin, $"/api/datasets/{id}/series", new { seriesInstanceUIDs = m.Alpha.SeriesUids });
            var version = (await m.PostAsync(Admin, $"/api/datasets/{id}/versions", new { })).Body.Json().GetProperty("id").GetInt64();
            string[] secrets = [name];

            var list = await m.GetAsync(user, "/api/projects/alpha/datasets");
            var listMissing = await m.GetAsync(user, "/api/projects/no-such-project/datasets");
            Assert.Equal(listMissing.Status, list.Status);
            AssertDenied(Door + "/datasets", list.Status, list.Body, m.Alpha, secrets);

            foreach (var (method, url, body) in new (HttpMethod, string, object?)[]
                     {
                         (HttpMethod.Get, "/api/datasets/{0}/zip/size", null), (HttpMethod.Get, "/api/datasets/{0}/zip", null),
                         (HttpMethod.Post, "/api/datasets/{0}/series", new { seriesInstanceUIDs = new[] { m.Beta.SeriesUids[0] } }),
                         (HttpMethod.Post, "/api/datasets/{0}/series/remove", new { seriesInstanceUIDs = m.Alpha.SeriesUids }),
                         (HttpMethod.Post, "/api/datasets/{0}/versions", new { }), (HttpMethod.Delete, "/api/datasets/{0}", null),
                     })
            {
                var hidden = await m.CallAsync(user, method, string.Format(url, id), body);
                var missing = await m.CallAsync(user, method, string.Format(url, MissingId), body);
                Assert.Equal(missing.Status, hidden.Status);
                Assert.Equal(Anonymize(missing.Body, MissingId.ToString()), Anonymize(hidden.Body, id.ToString()));
                AssertDenied($"{Door}{url}", hidden.Status, hidden.Body, m.Alpha, secrets, HttpStatusCode.NotFound);
            }
            foreach (var url in new[] { "/api/versions/{0}", "/api/versions/{0}/zip" })
            {
                var hidden = await m.GetAsync(user, string.Format(url, version));
                var missing = await m.GetAsync(user, string.Format(url, MissingId));
                Assert.Equal(missing.Status, hidden.Status);
                Assert.Equal(Anonymize(missing.Body, MissingId.ToString()), Anonymize(hidden.Body, version.ToString()));
                AssertDenied($"{Door}{url}", hidden.Status, hidden.Body, m.Alpha, secrets, HttpStatusCode.NotFound);
            }
            // The dataset is untouched.
            var size = await m.GetAsync(Admin, $"/api/datasets/{id}/zip/size");
            Assert.Equal(4, size.Body.Json().GetProperty("instances").GetInt32());
        }
        finally
        {
            await m.CallAsync(Admin, HttpMethod.Delete, $"/api/datasets/{id}");
        }
    }

    [Fact]
    public async Task An_export_token_is_useless_to_anyone_but_its_maker()
    {
        var token = (await m.PostAsync(AlphaViewer, "/api/exports", new { label = "mine" })).Body.Json().GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await m.GetAsync(AlphaViewer, $"/api/exports/{token}")).Status);
        CountAllowed(Door + "/exports");
        var other = await m.GetAsync(AlphaResearcher, $"/api/exports/{token}");
        var missing = await m.GetAsync(AlphaResearcher, $"/api/exports/{new string('a', 32)}");
        Assert.Equal(missing, other);
        AssertDenied(Door + "/exports", other.Status, other.Body, m.Beta, [token], HttpStatusCode.NotFound);

        var name = $"tok-{Guid.NewGuid():N}"[..16];
        int id = (await m.PostAsync(Admin, "/api/projects/alpha/datasets", new { name })).Body.Json().GetProperty("id").GetInt32();
        try
        {
            var zip = await m.GetAsync(AlphaResearcher, $"/api/datasets/{id}/zip?token={token}");
            AssertDenied(Door + "/exports", zip.Status, zip.Body, m.Beta, [token], HttpStatusCode.BadRequest);
            Assert.Equal(HttpStatusCode.OK, (await m.GetAsync(AlphaViewer, $"/api/datasets/{id}/zip?token={token}")).Status);
            Assert.Equal("Done", (await m.GetAsync(AlphaViewer, $"/api/exports/{token}")).Body.Json().GetProperty("state").GetString());
        }
        finally
        {
            await m.CallAsync(Admin, HttpMethod.Delete, $"/api/datasets/{id}");
        }
    }

    [Fact]
    public async Task Tags_change_with_curate_only_and_suggestions_come_from_visible_projects_only()
    {
        var tag = "matrix-" + Guid.NewGuid().ToString("N")[..8];
        var series = m.Alpha.SeriesUids[0];
        try
        {
            var viewer = await m.PostAsync(AlphaViewer, "/api/series/tags", new { seriesUids = new[] { series }, add = new[] { tag }, project = "alpha" });
            AssertDenied(Door + "/tags", viewer.Status, viewer.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
            var researcher = await m.PostAsync(AlphaResearcher, "/api/series/tags", new { seriesUids = new[] { series }, add = new[] { tag }, project = "alpha" });
            Assert.Equal(HttpStatusCode.OK, researcher.Status);
            Assert.Equal(1, researcher.Body.Json().GetProperty("added").GetInt32());
            CountAllowed(Door + "/tags");

            // beta cannot tag alpha's series, neither through alpha (invisible) nor through its own project (the series is unknown to it).
            var hidden = await m.PostAsync(BetaResearcher, "/api/series/tags", new { seriesUids = new[] { series }, add = new[] { tag + "b" }, project = "alpha" });
            var missing = await m.PostAsync(BetaResearcher, "/api/series/tags", new { seriesUids = new[] { series }, add = new[] { tag + "b" }, project = "zeta" });
            Assert.Equal(missing.Status, hidden.Status);
            AssertDenied(Door + "/tags", hidden.Status, hidden.Body, m.Alpha, [tag], HttpStatusCode.NotFound);
            var own = await m.PostAsync(BetaResearcher, "/api/series/tags", new { seriesUids = new[] { series }, add = new[] { tag + "b" }, project = "beta" });
            Assert.Equal(0, own.Body.Json().GetProperty("added").GetInt32());

            var suggested = await m.GetAsync(AlphaViewer, $"/api/tags?project=alpha&prefix={tag}");
            Assert.Contains(tag, suggested.Body);
            var hiddenSuggest = await m.GetAsync(BetaResearcher, $"/api/tags?project=alpha&prefix={tag}");
            var missingSuggest = await m.GetAsync(BetaResearcher, "/api/tags?project=zeta&prefix=matrix");
            Assert.Equal(missingSuggest.Status, hiddenSuggest.Status);
            AssertDenied(Door + "/tags", hiddenSuggest.Status, hiddenSuggest.Body, m.Alpha, [tag], HttpStatusCode.NotFound);
            Assert.DoesNotContain($"\"{tag}\"", (await m.GetAsync(BetaResearcher, $"/api/tags?project=beta&prefix=matrix")).Body);
        }
        finally
        {
            await m.PostAsync(Admin, "/api/series/tags", new { seriesUids = new[] { series }, remove = new[] { tag }, project = "alpha" });
        }
    }

    [Theory]
    [InlineData(AlphaViewer, HttpStatusCode.Forbidden)]
    [InlineData(AlphaResearcher, HttpStatusCode.OK)]
    [InlineData(AlphaProjectAdmin, HttpStatusCode.OK)]
    [InlineData(BetaResearcher, HttpStatusCode.NotFound)]
    [InlineData(Outsider, HttpStatusCode.NotFound)]
    [InlineData(Admin, HttpStatusCode.OK)]
    public async Task Uploads_need_curate_in_the_target_project(string user, HttpStatusCode expected)
    {
        var (series, status, body) = await m.UploadAsync(user, "alpha");
        try
        {
            if (expected == HttpStatusCode.OK)
            {
                Assert.True(status == HttpStatusCode.OK, body);
                Assert.Contains(series, (await m.GetAsync(user, "/api/series?project=alpha&limit=1000")).Body);
                CountAllowed(Door + "/uploads");
                await AuditTrailPoll.WaitAsync(m.Server.CreateClient(), "action=upload", list => list.Any(e => e.GetProperty("actor").GetString() == user
                    && e.GetProperty("target").GetString() == "project:alpha" && e.GetProperty("outcome").GetString() == "success"), () => m.Server.Output);
                return;
            }
            if (expected == HttpStatusCode.NotFound)
            {
                var missing = await m.UploadAsync(user, "no-such-project");
                Assert.Equal(missing.Status, status);
                Assert.Equal(missing.Body.Replace("no-such-project", "#"), body.Replace("alpha", "#"));
            }
            AssertDenied(Door + "/uploads", status, body, m.Alpha, allowed: expected);
            Assert.DoesNotContain(series, (await m.GetAsync(Admin, "/api/series?limit=1000")).Body);
        }
        finally
        {
            await m.CallAsync(Admin, HttpMethod.Delete, $"/api/series/{series}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_upload_reusing_an_invisible_series_or_study_uid_is_refused_and_links_nothing(bool reuseSeries)
    {
        // An alpha researcher who learnt one of beta's UIDs must not get beta's series into alpha by uploading into it.
        var (series, status, body) = reuseSeries
            ? await m.UploadAsync(AlphaResearcher, "alpha", studyUid: m.Beta.StudyUid, seriesUid: m.Beta.SeriesUids[0])
            : await m.UploadAsync(AlphaResearcher, "alpha", studyUid: m.Beta.StudyUid);
        try
        {
            Assert.True(status == HttpStatusCode.BadRequest, $"{(int)status}: {body}");
            Assert.Contains("conflicts with existing data", body, StringComparison.OrdinalIgnoreCase);
            AssertDenied(Door + "/uploads", status, body, m.Beta, allowed: HttpStatusCode.BadRequest);
            var seen = (await m.GetAsync(AlphaResearcher, "/api/series?limit=1000")).Body;
            AssertNoLeak(Door + "/uploads", seen, m.Beta);
            Assert.DoesNotContain(series, seen);
        }
        finally
        {
            if (!reuseSeries) await m.CallAsync(Admin, HttpMethod.Delete, $"/api/series/{series}");
        }
    }

    [Fact]
    public async Task Deleting_a_series_needs_manage_in_every_project_holding_it()
    {
        var (mine, status, body) = await m.UploadAsync(Admin, "alpha");
        Assert.True(status == HttpStatusCode.OK, body);
        try
        {
            foreach (var user in new[] { AlphaViewer, AlphaResearcher })
            {
                var r = await m.CallAsync(user, HttpMethod.Delete, $"/api/series/{mine}");
                AssertDenied(Door + "/series delete", r.Status, r.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
            }
            foreach (var user in new[] { BetaResearcher, Outsider })
            {
                var hidden = await m.CallAsync(user, HttpMethod.Delete, $"/api/series/{mine}");
                var missing = await m.CallAsync(user, HttpMethod.Delete, "/api/series/1.2.3.4.5.6.7.8.9");
                Assert.Equal(missing, hidden);
                AssertDenied(Door + "/series delete", hidden.Status, hidden.Body, m.Alpha, [mine], HttpStatusCode.NotFound);
            }
            // Also in beta: alpha's ProjectAdmin may no longer delete it (it would take it from beta).
            Assert.Equal(HttpStatusCode.OK, (await m.PostAsync(Admin, "/api/projects/beta/series", new { seriesInstanceUIDs = new[] { mine } })).Status);
            var shared = await m.CallAsync(AlphaProjectAdmin, HttpMethod.Delete, $"/api/series/{mine}");
            AssertDenied(Door + "/series delete", shared.Status, shared.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
            // Only in alpha again (a fresh series): the ProjectAdmin deletes it, audited.
            var (own, _, _) = await m.UploadAsync(Admin, "alpha");
            Assert.Equal(HttpStatusCode.NoContent, (await m.CallAsync(AlphaProjectAdmin, HttpMethod.Delete, $"/api/series/{own}")).Status);
            CountAllowed(Door + "/series delete");
            await AuditTrailPoll.WaitAsync(m.Server.CreateClient(), "action=series.deleted", list => list.Any(e => e.GetProperty("target").GetString() == own
                && e.GetProperty("actor").GetString() == AlphaProjectAdmin) && list.Any(e => e.GetProperty("target").GetString() == mine
                && e.GetProperty("outcome").GetString() == "denied"), () => m.Server.Output);
        }
        finally
        {
            await m.CallAsync(Admin, HttpMethod.Delete, $"/api/series/{mine}");
        }
    }

    [Theory]
    [InlineData(AlphaViewer)]
    [InlineData(AlphaProjectAdmin)]
    [InlineData(BetaResearcher)]
    [InlineData(Outsider)]
    public async Task Consistency_check_and_node_administration_are_for_site_admins(string user)
    {
        foreach (var url in new[] { "/api/maintenance/consistency", "/api/remote-nodes" })
        {
            var (status, body) = await m.GetAsync(user, url);
            AssertDenied(Door + url, status, body, m.Beta, allowed: HttpStatusCode.Forbidden);
        }
        Assert.Equal(HttpStatusCode.OK, (await m.GetAsync(Admin, "/api/maintenance/consistency")).Status);
    }

    [Fact]
    public async Task A_project_admin_manages_its_own_projects_endpoints_only()
    {
        var ae = "AX" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var list = await m.GetAsync(AlphaProjectAdmin, "/api/endpoints");
        Assert.Contains("ALPHA_AE", list.Body);
        AssertNoLeak(Door + "/endpoints", list.Body, m.Beta, ["BETA_AE"]);
        Assert.Equal("[]", (await m.GetAsync(AlphaResearcher, "/api/endpoints")).Body);

        var researcher = await m.PostAsync(AlphaResearcher, "/api/endpoints", new { aeTitle = ae, project = "alpha" });
        AssertDenied(Door + "/endpoints", researcher.Status, researcher.Body, m.Beta, ["BETA_AE"], HttpStatusCode.Forbidden);
        var intoBeta = await m.PostAsync(AlphaProjectAdmin, "/api/endpoints", new { aeTitle = ae, project = "beta" });
        var intoNothing = await m.PostAsync(AlphaProjectAdmin, "/api/endpoints", new { aeTitle = ae, project = "no-such-project" });
        Assert.Equal(intoNothing.Body.Replace("no-such-project", "#"), intoBeta.Body.Replace("beta", "#"));
        AssertDenied(Door + "/endpoints", intoBeta.Status, intoBeta.Body, m.Beta, ["BETA_AE"], HttpStatusCode.BadRequest);
        var betaAe = await m.CallAsync(AlphaProjectAdmin, HttpMethod.Put, "/api/endpoints/BETA_AE", new { project = "alpha" });
        var noAe = await m.CallAsync(AlphaProjectAdmin, HttpMethod.Put, "/api/endpoints/NO_SUCH_AE", new { project = "alpha" });
        Assert.Equal(noAe.Body.Replace("NO_SUCH_AE", "#"), betaAe.Body.Replace("BETA_AE", "#"));
        AssertDenied(Door + "/endpoints", betaAe.Status, betaAe.Body, m.Beta, allowed: HttpStatusCode.NotFound);

        var created = await m.PostAsync(AlphaProjectAdmin, "/api/endpoints", new { aeTitle = ae, project = "alpha" });
        Assert.True(created.Status == HttpStatusCode.Created, created.Body);
        var delete = await m.CallAsync(AlphaViewer, HttpMethod.Delete, $"/api/endpoints/{ae}");
        AssertDenied(Door + "/endpoints", delete.Status, delete.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, (await m.CallAsync(AlphaProjectAdmin, HttpMethod.Delete, $"/api/endpoints/{ae}")).Status);
        CountAllowed(Door + "/endpoints");
        await AuditTrailPoll.WaitAsync(m.Server.CreateClient(), "action=endpoint.changed", items =>
            items.Count(e => e.GetProperty("actor").GetString() == AlphaProjectAdmin && e.GetProperty("target").GetString()!.StartsWith($"endpoint:{ae} ", StringComparison.Ordinal)
                && e.GetProperty("outcome").GetString() == "success") == 2, () => m.Server.Output);
    }

    [Fact]
    public async Task Remote_nodes_are_used_by_curators_import_needs_curate_in_the_target_and_send_needs_run_on_the_series()
    {
        var ae = "NODE" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        // A node nobody listens on: every check below is decided before the network.
        var node = await m.PostAsync(Admin, "/api/remote-nodes", new { aeTitle = ae, host = "127.0.0.1", port = 9 });
        Assert.True(node.Status == HttpStatusCode.Created, node.Body);
        var nodeId = node.Body.Json().GetProperty("id").GetInt32();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await m.GetAsync(AlphaResearcher, "/api/nodes")).Status);
            CountAllowed(Door + "/nodes");
            foreach (var user in new[] { AlphaViewer, Outsider })
            {
                var (status, body) = await m.GetAsync(user, "/api/nodes");
                AssertDenied(Door + "/nodes", status, body, m.Beta, allowed: HttpStatusCode.Forbidden);
            }
            var viewerImport = await m.PostAsync(AlphaViewer, $"/api/nodes/{ae}/import", new { studyInstanceUID = "1.2.3", project = "alpha" });
            AssertDenied(Door + "/nodes import", viewerImport.Status, viewerImport.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
            var intoBeta = await m.PostAsync(AlphaResearcher, $"/api/nodes/{ae}/import", new { studyInstanceUID = "1.2.3", project = "beta" });
            var intoNothing = await m.PostAsync(AlphaResearcher, $"/api/nodes/{ae}/import", new { studyInstanceUID = "1.2.3", project = "no-such-project" });
            Assert.Equal(intoNothing.Body.Replace("no-such-project", "#"), intoBeta.Body.Replace("beta", "#"));
            AssertDenied(Door + "/nodes import", intoBeta.Status, intoBeta.Body, m.Beta, allowed: HttpStatusCode.BadRequest);
            // A study that exists here in beta must not be pulled into alpha through an import.
            var conflict = await m.PostAsync(AlphaResearcher, $"/api/nodes/{ae}/import", new { studyInstanceUID = m.Beta.StudyUid, project = "alpha" });
            AssertDenied(Door + "/nodes import", conflict.Status, conflict.Body, m.Beta, allowed: HttpStatusCode.Conflict);

            var viewerSend = await m.PostAsync(AlphaViewer, $"/api/nodes/{ae}/send", new { seriesInstanceUID = m.Alpha.SeriesUids[0] });
            AssertDenied(Door + "/nodes send", viewerSend.Status, viewerSend.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
            var hiddenSend = await m.PostAsync(BetaResearcher, $"/api/nodes/{ae}/send", new { seriesInstanceUID = m.Alpha.SeriesUids[0] });
            var missingSend = await m.PostAsync(BetaResearcher, $"/api/nodes/{ae}/send", new { seriesInstanceUID = "1.2.3.4.5.6.7.8.9" });
            Assert.Equal(missingSend.Body.Replace("1.2.3.4.5.6.7.8.9", "#"), hiddenSend.Body.Replace(m.Alpha.SeriesUids[0], "#"));
            AssertDenied(Door + "/nodes send", hiddenSend.Status, hiddenSend.Body, m.Alpha, allowed: HttpStatusCode.NotFound);
            // The researcher may send: the node is down, so the network answers (502), not the access check.
            var send = await m.PostAsync(AlphaResearcher, $"/api/nodes/{ae}/send", new { seriesInstanceUID = m.Alpha.SeriesUids[0] });
            Assert.True(send.Status == HttpStatusCode.BadGateway, send.Body);
            await AuditTrailPoll.WaitAsync(m.Server.CreateClient(), "action=import.study", items => items.Any(e => e.GetProperty("actor").GetString() == AlphaViewer
                && e.GetProperty("outcome").GetString() == "denied"), () => m.Server.Output);
        }
        finally
        {
            await m.CallAsync(Admin, HttpMethod.Delete, $"/api/remote-nodes/{nodeId}");
        }
    }
}
