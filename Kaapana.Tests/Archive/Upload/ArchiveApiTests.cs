using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Kaapana.Tests.Server;

namespace Kaapana.Tests.Archive.Upload;

/// <summary>The /api surface a notebook would drive: upload, search, curate a dataset, freeze it, delete a series; and its OpenAPI document.</summary>
public class ArchiveApiTests
{
    [Fact]
    public async Task Curate_a_dataset_through_the_rest_api()
    {
        await using var server = await ServerProcess.StartAsync();
        var http = server.Http;
        string seriesCt = TestInstances.NewUid(), seriesMr = TestInstances.NewUid(), study = TestInstances.NewUid();
        using var form = new MultipartFormDataContent();
        for (int i = 1; i <= 3; i++)
            form.Add(new ByteArrayContent(TestInstances.Create(new TestInstances.Spec("PAT-API", "Api^Test", study, seriesCt, TestInstances.NewUid(), "CT", i))), "files", $"ct{i}.dcm");
        form.Add(new ByteArrayContent(TestInstances.Create(new TestInstances.Spec("PAT-API", "Api^Test", study, seriesMr, TestInstances.NewUid(), "MR", 1))), "files", "mr.dcm");
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/uploads", form)).StatusCode);

        // Search: filters and paging.
        var all = await http.GetFromJsonAsync<JsonElement>("/api/series?patientID=PAT-API");
        Assert.Equal(2, all.GetProperty("total").GetInt32());
        var ct = await http.GetFromJsonAsync<JsonElement>("/api/series?patientID=PAT-API&modality=CT");
        var only = Assert.Single(ct.GetProperty("items").EnumerateArray());
        Assert.Equal(seriesCt, only.GetProperty("seriesInstanceUID").GetString());
        Assert.Equal(3, only.GetProperty("numberOfInstances").GetInt32());
        var paged = await http.GetFromJsonAsync<JsonElement>("/api/series?patientID=PAT-API&limit=1&offset=1");
        Assert.Single(paged.GetProperty("items").EnumerateArray());

        // Project, dataset, freeze.
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/projects", new { name = "lung" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsJsonAsync("/api/projects", new { name = "lung" })).StatusCode);
        await http.PostAsJsonAsync("/api/projects/lung/series", new { seriesInstanceUIDs = new[] { seriesCt, seriesMr } });
        var inLung = await http.GetFromJsonAsync<JsonElement>("/api/series?project=lung");
        Assert.Equal(2, inLung.GetProperty("total").GetInt32());

        var created = await http.PostAsJsonAsync("/api/projects/lung/datasets", new { name = "cohort-a" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        int datasetId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        await http.PostAsJsonAsync($"/api/datasets/{datasetId}/series", new { seriesInstanceUIDs = new[] { seriesCt } });
        var datasets = await http.GetFromJsonAsync<JsonElement>("/api/projects/lung/datasets");
        var ds = Assert.Single(datasets.EnumerateArray());
        Assert.Equal(1, ds.GetProperty("seriesCount").GetInt32());
        Assert.Equal(3, ds.GetProperty("instanceCount").GetInt32());

        var frozen = await http.PostAsJsonAsync($"/api/datasets/{datasetId}/versions", new { note = "baseline" });
        Assert.Equal(HttpStatusCode.Created, frozen.StatusCode);
        var version = await frozen.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(3, version.GetProperty("instanceCount").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsJsonAsync("/api/datasets/99999/versions", new { note = "x" })).StatusCode);

        // Deleting the dataset keeps the data; deleting a series removes it; the frozen version is unchanged.
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/datasets/{datasetId}")).StatusCode);
        Assert.Equal(2, (await http.GetFromJsonAsync<JsonElement>("/api/series?patientID=PAT-API")).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/series/{seriesMr}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync($"/api/series/{seriesMr}")).StatusCode);
        // Who deleted what is in the audit trail, once (the second, failed delete removed nothing).
        var deletions = (await AuditTrailPoll.WaitAsync(http, "action=series.deleted", items => items.Count >= 1)).Items;
        Assert.Equal(TestCredentials.AdminUser, Assert.Single(deletions).GetProperty("actor").GetString());
        Assert.Equal(seriesMr, deletions[0].GetProperty("target").GetString());
        Assert.Equal(1, (await http.GetFromJsonAsync<JsonElement>("/api/series?patientID=PAT-API")).GetProperty("total").GetInt32());
        var again = await http.GetFromJsonAsync<JsonElement>($"/api/versions/{version.GetProperty("id").GetInt64()}");
        Assert.Equal(version.GetProperty("uidListHash").GetString(), again.GetProperty("uidListHash").GetString());

        var consistency = await http.GetAsync("/api/maintenance/consistency");
        Assert.Equal(HttpStatusCode.OK, consistency.StatusCode);
    }

    [Fact]
    public async Task OpenApi_document_describes_the_api()
    {
        await using var server = await ServerProcess.StartAsync();
        var doc = await server.Http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var expected in new[] { "/api/uploads", "/api/series", "/api/projects", "/api/datasets/{id}/versions", "/healthz" })
            Assert.Contains(expected, paths);
    }
}
