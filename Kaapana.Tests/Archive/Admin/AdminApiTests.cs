using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kaapana.Dicom;
using Kaapana.Tests.Archive.Dicom;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive.Admin;

/// <summary>
/// The real server with a configured remote node (CONFNODE) and an endpoint refresh interval of an hour, so anything that
/// takes effect at once does so because the admin change triggers it, not the periodic refresh.
/// </summary>
public sealed class AdminServerFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("kaapana-admin-").FullName;
    public KaapanaServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await KaapanaServer.StartAsync(Directory.CreateDirectory(Path.Combine(Root, "data")).FullName, new Dictionary<string, string>
        {
            ["Kaapana__Dicom__EndpointRefreshInterval"] = "01:00:00",
            ["Kaapana__Dicom__RemoteNodes__0__AETitle"] = "CONFNODE",
            ["Kaapana__Dicom__RemoteNodes__0__Host"] = "127.0.0.1",
            ["Kaapana__Dicom__RemoteNodes__0__Port"] = "1",
        });
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class AdminApiTests(AdminServerFixture fx, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<AdminServerFixture>
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private string DicomPort => fx.Server.DicomPort.ToString(CultureInfo.InvariantCulture);

    private sealed record NodeDto(int? Id, string AETitle, string Host, int Port, string? Description, bool FromConfiguration);
    private sealed record EchoDto(string AETitle, bool Succeeded, string? Status, string? Error, double RoundTripMilliseconds);
    private sealed record EndpointDto(string AETitle, string Project, string? Dataset, string? Description);

    private string WriteInstance(string dir, out string seriesUid)
    {
        Directory.CreateDirectory(dir);
        seriesUid = TestInstances.NewUid();
        var path = Path.Combine(dir, $"{Guid.NewGuid():N}.dcm");
        File.WriteAllBytes(path, TestInstances.Create(new TestInstances.Spec("PAT-ADM", "Admin^Test", TestInstances.NewUid(), seriesUid, TestInstances.NewUid())));
        return path;
    }

    [Fact]
    public async Task A_new_receiving_endpoint_is_answered_at_once_and_files_into_its_project_and_dataset_and_a_deleted_one_is_refused()
    {
        using var http = fx.Server.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/projects", new { name = "lung" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/projects/lung/datasets", new { name = "train" })).StatusCode);
        var dir = Path.Combine(fx.Root, "endpoint");
        var file = WriteInstance(dir, out var seriesUid);

        var before = await DicomTools.RunAsync("storescu", "-v", "-aec", "LUNG_NEW", "127.0.0.1", DicomPort, file);
        Assert.True(before.ExitCode != 0 && DicomReceiverTests.CountSuccess(before.Output) == 0, $"storescu to an unknown AE title should be rejected: {before}");

        // Bad input: clear 4xx, nothing saved.
        async Task<HttpStatusCode> Post(object body) => (await http.PostAsJsonAsync("/api/endpoints", body)).StatusCode;
        Assert.Equal(HttpStatusCode.BadRequest, await Post(new { aeTitle = "BAD\\AE", project = "lung" }));
        Assert.Equal(HttpStatusCode.BadRequest, await Post(new { aeTitle = "SEVENTEEN_CHARS_X", project = "lung" }));
        Assert.Equal(HttpStatusCode.BadRequest, await Post(new { aeTitle = "LUNG_NEW", project = "nope" }));
        Assert.Equal(HttpStatusCode.BadRequest, await Post(new { aeTitle = "LUNG_NEW", project = "lung", dataset = "nope" }));

        var created = await http.PostAsJsonAsync("/api/endpoints", new { aeTitle = "LUNG_NEW", project = "lung", dataset = "train", description = "new" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, await Post(new { aeTitle = "LUNG_NEW", project = "lung" }));
        var list = await http.GetFromJsonAsync<List<EndpointDto>>("/api/endpoints", Web);
        Assert.Contains(new EndpointDto("LUNG_NEW", "lung", "train", "new"), list!);

        var after = await DicomTools.RunAsync("storescu", "-v", "-aec", "LUNG_NEW", "127.0.0.1", DicomPort, file);
        Assert.True(after.ExitCode == 0 && DicomReceiverTests.CountSuccess(after.Output) == 1, $"storescu right after adding the endpoint: {after}\n{fx.Server.Output}");
        await using (var db = fx.Server.OpenIndex())
        {
            var series = await db.Series.SingleAsync(s => s.SeriesInstanceUID == seriesUid);
            var projects = await db.ProjectSeries.Where(l => l.SeriesId == series.Id).Join(db.Projects, l => l.ProjectId, p => p.Id, (l, p) => p.Name).ToListAsync();
            Assert.Equal(["lung"], projects);
            var datasets = await db.DatasetSeries.Where(l => l.SeriesId == series.Id).Join(db.Datasets, l => l.DatasetId, d => d.Id, (l, d) => d.Name).ToListAsync();
            Assert.Equal(["train"], datasets);
        }

        // Edit: the dataset is dropped; the AE title cannot be renamed through PUT.
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsJsonAsync("/api/endpoints/LUNG_NEW", new { project = "lung" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PutAsJsonAsync("/api/endpoints/LUNG_NEW", new { aeTitle = "OTHER", project = "lung" })).StatusCode);
        Assert.Null((await http.GetFromJsonAsync<List<EndpointDto>>("/api/endpoints", Web))!.Single(e => e.AETitle == "LUNG_NEW").Dataset);

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/endpoints/LUNG_NEW")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync("/api/endpoints/LUNG_NEW")).StatusCode);
        var gone = await DicomTools.RunAsync("storescu", "-v", "-aec", "LUNG_NEW", "127.0.0.1", DicomPort, file);
        Assert.True(gone.ExitCode != 0 && DicomReceiverTests.CountSuccess(gone.Output) == 0, $"storescu after deleting the endpoint should be rejected: {gone}");
    }

    [Fact]
    public async Task Remote_nodes_crud_echo_test_against_storescp_and_a_dead_port_and_cmove_to_a_node_from_the_index()
    {
        using var http = fx.Server.CreateClient();
        using (var anonymous = TestCredentials.Anonymous(fx.Server.BaseAddress))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/remote-nodes")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/remote-nodes", new { aeTitle = "X", host = "h", port = 1 })).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync("/api/endpoints/KAAPANA")).StatusCode);
        }
        int livePort = KaapanaServer.FreePort(), deadPort = KaapanaServer.FreePort();
        var received = Directory.CreateTempSubdirectory("kaapana-admin-scp-").FullName;
        var scpOutput = new System.Text.StringBuilder();
        using var scp = DicomTools.Start("storescp", ["-v", "-aet", "LIVESCP", "-od", received, "+xa", livePort.ToString(CultureInfo.InvariantCulture)], output: scpOutput);
        try
        {
            var nodes = await http.GetFromJsonAsync<List<NodeDto>>("/api/remote-nodes", Web);
            Assert.Contains(nodes!, n => n is { AETitle: "CONFNODE", FromConfiguration: true, Id: null });

            async Task<HttpResponseMessage> Add(object body) => await http.PostAsJsonAsync("/api/remote-nodes", body);
            var live = await (await Add(new { aeTitle = "LIVESCP", host = "127.0.0.1", port = livePort, description = "DCMTK storescp" })).Content.ReadFromJsonAsync<NodeDto>(Web);
            var deadResponse = await Add(new { aeTitle = "DEADNODE", host = "127.0.0.1", port = deadPort });
            Assert.Equal(HttpStatusCode.Created, deadResponse.StatusCode);
            var dead = await deadResponse.Content.ReadFromJsonAsync<NodeDto>(Web);
            Assert.NotNull(live?.Id);

            // Validation: clear 400s, nothing stored.
            Assert.Equal(HttpStatusCode.BadRequest, (await Add(new { aeTitle = "LIVESCP", host = "127.0.0.1", port = 104 })).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await Add(new { aeTitle = "CONFNODE", host = "127.0.0.1", port = 104 })).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await Add(new { aeTitle = "SEVENTEEN_CHARS_X", host = "127.0.0.1", port = 104 })).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await Add(new { aeTitle = "OK", host = "127.0.0.1", port = 70000 })).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await Add(new { aeTitle = "OK", host = "", port = 104 })).StatusCode);
            Assert.Equal(3, (await http.GetFromJsonAsync<List<NodeDto>>("/api/remote-nodes", Web))!.Count); // CONFNODE, LIVESCP, DEADNODE

            await Task.Delay(300); // storescp binds at once; it has no readiness signal
            var echo = await (await http.PostAsync($"/api/remote-nodes/{live!.Id}/echo", null)).Content.ReadFromJsonAsync<EchoDto>(Web);
            Assert.True(echo!.Succeeded, $"C-ECHO to storescp: {echo}\n{scpOutput}");
            Assert.True(echo.RoundTripMilliseconds > 0);
            var warm = await (await http.PostAsync($"/api/remote-nodes/{live.Id}/echo", null)).Content.ReadFromJsonAsync<EchoDto>(Web);
            Assert.True(warm!.Succeeded, warm.ToString());
            var deadEcho = await (await http.PostAsync($"/api/remote-nodes/{dead!.Id}/echo", null)).Content.ReadFromJsonAsync<EchoDto>(Web);
            Assert.False(deadEcho!.Succeeded);
            Assert.False(string.IsNullOrWhiteSpace(deadEcho.Error), deadEcho.ToString());
            output.WriteLine($"C-ECHO round trip to storescp: first {echo.RoundTripMilliseconds:0.0} ms, second {warm.RoundTripMilliseconds:0.0} ms; dead port: {deadEcho.RoundTripMilliseconds:0.0} ms ({deadEcho.Error})");
            var confEcho = await (await http.PostAsync("/api/remote-nodes/by-ae/CONFNODE/echo", null)).Content.ReadFromJsonAsync<EchoDto>(Web);
            Assert.False(confEcho!.Succeeded);

            // The older routes see nodes from the index too.
            var legacy = await http.GetFromJsonAsync<List<NodeDto>>("/api/nodes", Web);
            Assert.Equal(["CONFNODE", "DEADNODE", "LIVESCP"], legacy!.Select(n => n.AETitle).Order());
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/nodes/LIVESCP/echo", null)).StatusCode);

            // C-MOVE destination looked up in the index.
            var file = WriteInstance(Path.Combine(fx.Root, "move"), out var seriesUid);
            var sop = DicomFile.Open(file).Dataset.GetString(DicomTags.SOPInstanceUID);
            var store = await DicomTools.RunAsync("storescu", "-v", "-aec", "KAAPANA", "127.0.0.1", DicomPort, file);
            Assert.True(store.ExitCode == 0, store.ToString());
            var move = await DicomTools.RunAsync("movescu", "-v", "-S", "-aec", "KAAPANA", "-aem", "LIVESCP", "-k", "QueryRetrieveLevel=SERIES",
                "-k", $"StudyInstanceUID={DicomFile.Open(file).Dataset.GetString(DicomTags.StudyInstanceUID)}", "-k", $"SeriesInstanceUID={seriesUid}", "127.0.0.1", DicomPort);
            Assert.True(move.ExitCode == 0 && !move.Output.Contains("E: "), $"movescu: {move}\n{scpOutput}");
            Assert.Equal([sop], Directory.GetFiles(received).Select(f => DicomFile.Open(f).Dataset.GetString(DicomTags.SOPInstanceUID)));

            // Edit and delete; nodes from configuration are read-only.
            var edited = await http.PutAsJsonAsync($"/api/remote-nodes/{dead.Id}", new { aeTitle = "DEADNODE2", host = "localhost", port = deadPort });
            Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
            Assert.Equal("DEADNODE2", (await edited.Content.ReadFromJsonAsync<NodeDto>(Web))!.AETitle);
            Assert.Equal(HttpStatusCode.BadRequest, (await http.PutAsJsonAsync($"/api/remote-nodes/{dead.Id}", new { aeTitle = "CONFNODE", host = "h", port = 1 })).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/remote-nodes/{dead.Id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/remote-nodes/{dead.Id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/remote-nodes/{live.Id}")).StatusCode);
        }
        finally
        {
            if (!scp.HasExited) scp.Kill();
            await scp.WaitForExitAsync();
            Directory.Delete(received, recursive: true);
        }
    }
}
