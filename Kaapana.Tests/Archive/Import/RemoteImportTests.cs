using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kaapana.Dicom;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Dicom.Network;
using Kaapana.Tests.Interop;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive.Import;

/// <summary>
/// The real server (DICOM listener on the host side of Orthanc's namespace link, AE title KAAPANA) with two remote nodes: Orthanc
/// 1.10.1 (Debian package orthanc), which knows KAAPANA as a C-MOVE destination, and a DCMTK storescp (Debian package dcmtk).
/// </summary>
public sealed class RemoteImportFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("kaapana-import-").FullName;
    public OrthancPeer Orthanc { get; private set; } = null!;
    public StoreScpProcess StoreScp { get; private set; } = null!;
    public KaapanaServer Server { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        int dicomPort = 0;
        Orthanc = await OrthancPeer.StartAsync(ns =>
        {
            dicomPort = OrthancPeer.FreePort(ns.HostAddress);
            return new OrthancOptions { Modalities = [new OrthancModality("KAAPANA", ns.HostAddress.ToString(), dicomPort)] };
        });
        StoreScp = await StoreScpProcess.StartAsync(Path.Combine(Root, "storescp"), "STORESCP");
        Server = await KaapanaServer.StartAsync(Directory.CreateDirectory(Path.Combine(Root, "data")).FullName, new Dictionary<string, string>
        {
            ["Kaapana__Dicom__RemoteNodes__0__AETitle"] = Orthanc.DicomEndpoint.AeTitle,
            ["Kaapana__Dicom__RemoteNodes__0__Host"] = Orthanc.DicomEndpoint.Host,
            ["Kaapana__Dicom__RemoteNodes__0__Port"] = Orthanc.DicomEndpoint.Port.ToString(CultureInfo.InvariantCulture),
            ["Kaapana__Dicom__RemoteNodes__1__AETitle"] = "STORESCP",
            ["Kaapana__Dicom__RemoteNodes__1__Host"] = "127.0.0.1",
            ["Kaapana__Dicom__RemoteNodes__1__Port"] = StoreScp.Port.ToString(CultureInfo.InvariantCulture),
        }, dicomPort, Orthanc.Network.HostAddress.ToString());
        Http = Server.CreateClient(TimeSpan.FromSeconds(60));
        using var r = await Http.PostAsJsonAsync("/api/projects", new { name = "imported" });
        Assert.True(r.StatusCode == HttpStatusCode.Created, $"create project: {r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        using var d = await Http.PostAsJsonAsync("/api/projects/imported/datasets", new { name = "cohort" });
        Assert.True(d.StatusCode == HttpStatusCode.Created, $"create dataset: {d.StatusCode}");
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Server != null) await Server.DisposeAsync();
        if (StoreScp != null) await StoreScp.DisposeAsync();
        if (Orthanc != null) await Orthanc.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class RemoteImportTests(RemoteImportFixture fx) : IClassFixture<RemoteImportFixture>
{
    private sealed record Generated(string Patient, string Study, string Series, string Sop);

    /// <summary>Generates patients x 1 study x 2 series x 3 instances and uploads them into Orthanc.</summary>
    private async Task<List<Generated>> UploadAsync(int patients)
    {
        var files = DicomReceiverTests.Generate(Directory.CreateTempSubdirectory("kaapana-import-gen-").FullName, patients, 1, 2, 3, namePrefix: "Imp^");
        var list = new List<Generated>();
        foreach (var f in files)
        {
            await fx.Orthanc.UploadAsync(f);
            var ds = DicomFile.Open(f).Dataset;
            list.Add(new Generated(ds.GetString(DicomTags.PatientID), ds.GetString(DicomTags.StudyInstanceUID),
                ds.GetString(DicomTags.SeriesInstanceUID), ds.GetString(DicomTags.SOPInstanceUID)));
        }
        Directory.Delete(Path.GetDirectoryName(files[0])!, recursive: true);
        return list;
    }

    private async Task<JsonNode> JsonAsync(HttpResponseMessage r, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"{r.RequestMessage?.Method} {r.RequestMessage?.RequestUri}: {(int)r.StatusCode} {body}\n{fx.Server.Output}\n{fx.Orthanc.Log}");
        return JsonNode.Parse(body)!;
    }

    [Fact]
    public async Task Lists_nodes_echoes_and_finds_studies_by_patient()
    {
        var nodes = (JsonArray)await JsonAsync(await fx.Http.GetAsync("/api/nodes"));
        Assert.Equal(["ORTHANC", "STORESCP"], nodes.Select(n => n!["aeTitle"]!.GetValue<string>()).Order());

        var echo = await JsonAsync(await fx.Http.PostAsync("/api/nodes/ORTHANC/echo", null));
        Assert.True(echo["succeeded"]!.GetValue<bool>(), echo.ToJsonString());
        using (var unknown = await fx.Http.PostAsync("/api/nodes/NOPE/echo", null))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        var uploaded = await UploadAsync(patients: 2);
        var first = uploaded[0];
        var studies = (JsonArray)await JsonAsync(await fx.Http.GetAsync($"/api/nodes/ORTHANC/studies?patientID={Uri.EscapeDataString(first.Patient)}"));
        var study = Assert.Single(studies)!;
        Assert.Equal(first.Study, study["studyInstanceUID"]!.GetValue<string>());
        Assert.Equal(first.Patient, study["patientID"]!.GetValue<string>());
        Assert.Equal(6, study["numberOfStudyRelatedInstances"]!.GetValue<int>());
        Assert.Equal(2, study["numberOfStudyRelatedSeries"]!.GetValue<int>());
    }

    [Fact]
    public async Task Imports_a_study_into_a_project_and_sends_a_series_on()
    {
        var uploaded = await UploadAsync(patients: 2);
        var target = uploaded[0].Study;
        var expected = uploaded.Where(g => g.Study == target).ToList();

        var result = await JsonAsync(await fx.Http.PostAsJsonAsync("/api/nodes/ORTHANC/import",
            new { studyInstanceUID = target, project = "imported", dataset = "cohort" }));
        Assert.True(result["succeeded"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Equal(expected.Count, result["completed"]!.GetValue<int>());
        Assert.Equal(0, result["failed"]!.GetValue<int>());
        Assert.Equal(0, result["warning"]!.GetValue<int>());
        Assert.Equal(2, result["seriesAddedToProject"]!.GetValue<int>());
        Assert.Equal(2, result["seriesAddedToDataset"]!.GetValue<int>());

        await using (var db = fx.Server.OpenIndex())
        {
            var project = await db.Projects.SingleAsync(p => p.Name == "imported");
            var inProject = await db.ProjectSeries.Where(l => l.ProjectId == project.Id)
                .SelectMany(l => db.Instances.Where(i => i.SeriesId == l.SeriesId).Select(i => i.SOPInstanceUID)).ToListAsync();
            Assert.Equal(expected.Select(g => g.Sop).Order(), inProject.Order());
            var dataset = await db.Datasets.SingleAsync(d => d.ProjectId == project.Id && d.Name == "cohort");
            var inDataset = await db.DatasetSeries.Where(l => l.DatasetId == dataset.Id).Select(l => l.Series.SeriesInstanceUID).ToListAsync();
            Assert.Equal(expected.Select(g => g.Series).Distinct().Order(), inDataset.Order());
            // The other patient's study stayed in Orthanc only.
            var otherStudy = uploaded.First(g => g.Study != target).Study;
            Assert.False(await db.Studies.AnyAsync(s => s.StudyInstanceUID == otherStudy));
        }

        using (var missing = await fx.Http.PostAsJsonAsync("/api/nodes/ORTHANC/import", new { studyInstanceUID = target, project = "no-such-project" }))
            Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);

        // Send one imported series to the storescp.
        var series = expected[0].Series;
        var sent = await JsonAsync(await fx.Http.PostAsJsonAsync("/api/nodes/STORESCP/send", new { seriesInstanceUID = series }));
        var sops = expected.Where(g => g.Series == series).Select(g => g.Sop).Order().ToList();
        Assert.Equal(sops.Count, sent["succeeded"]!.GetValue<int>());
        Assert.Equal(0, sent["failed"]!.GetValue<int>());
        Assert.Equal(sops, ((JsonArray)sent["instances"]!).Select(i => i!["sopInstanceUID"]!.GetValue<string>()).Order());
        var arrived = Directory.GetFiles(fx.StoreScp.OutputDir).Select(f => DicomFile.Open(f).Dataset)
            .Where(ds => ds.GetString(DicomTags.SeriesInstanceUID) == series).Select(ds => ds.GetString(DicomTags.SOPInstanceUID)).Order().ToList();
        Assert.True(sops.SequenceEqual(arrived), $"storescp received {string.Join(", ", arrived)}:\n{fx.StoreScp.Log}");

        using (var unknownSeries = await fx.Http.PostAsJsonAsync("/api/nodes/STORESCP/send", new { seriesInstanceUID = "1.2.3.4.999" }))
            Assert.Equal(HttpStatusCode.NotFound, unknownSeries.StatusCode);
    }
}
