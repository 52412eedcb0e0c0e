using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Kaapana.Dicom;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Interop;

/// <summary>
/// Acceptance with a third-party DICOMweb client: Orthanc's DICOMweb plugin (Debian orthanc-dicomweb) has our server as a
/// remote DICOMweb server (<c>DicomWeb.Servers</c>), lists our studies (QIDO-RS) and retrieves a study (WADO-RS) into its
/// own storage, reaching us through <see cref="OrthancDicomWebClient"/>.
/// </summary>
public sealed class OrthancDicomWebClientTests : IAsyncLifetime
{
    private const string ServerName = OrthancDicomWebClient.ServerName;
    private OrthancDicomWebClient? _client;
    private KaapanaServer? _server;
    private string _dir = "";
    private HttpClient _http = null!;

    private OrthancPeer Orthanc => _client!.Orthanc;
    private KaapanaServer Server => _server!;

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("kaapana-orthanc-dicomweb-").FullName;
        _server = await KaapanaServer.StartAsync(_dir);
        _client = await OrthancDicomWebClient.StartAsync(_server.BaseAddress);
        _http = _server.CreateClient(TimeSpan.FromSeconds(60));
    }

    /// <summary>Uploads files into our archive; returns their archived bytes by SOP Instance UID.</summary>
    private async Task<Dictionary<string, byte[]>> SeedAsync(params byte[][] files)
    {
        using var form = new MultipartFormDataContent();
        int n = 0;
        foreach (var f in files)
            form.Add(new ByteArrayContent(f) { Headers = { ContentType = new MediaTypeHeaderValue("application/dicom") } }, "files", $"f{n++}.dcm");
        using var r = await _http.PostAsync("/api/uploads", form);
        Assert.True(r.StatusCode == HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
        await using var db = Server.OpenIndex();
        var rows = await db.Instances.AsNoTracking().Select(i => new { i.SOPInstanceUID, i.StoragePath }).ToListAsync();
        return rows.ToDictionary(x => x.SOPInstanceUID, x => File.ReadAllBytes(Path.Combine(Server.ArchiveDir, x.StoragePath)));
    }

    private Task<JsonNode?> OrthancPostAsync(string uri, JsonObject body) => _client!.PostAsync(uri, body, () => Server.Output);

    private static byte[] Compressed(string tool, TestInstances.Spec spec, string dir)
    {
        var plain = Path.Combine(dir, spec.SopUid + ".plain.dcm");
        var packed = Path.Combine(dir, spec.SopUid + ".dcm");
        File.WriteAllBytes(plain, TestInstances.Create(spec));
        Peers.RunDcmtkAsync(tool, [plain, packed]).GetAwaiter().GetResult().EnsureSuccess(tool);
        return File.ReadAllBytes(packed);
    }

    [Fact]
    public async Task Orthanc_retrieves_a_study_from_us_and_stores_byte_identical_instances()
    {
        string study = TestInstances.NewUid(), series1 = TestInstances.NewUid(), series2 = TestInstances.NewUid();
        var files = Enumerable.Range(1, 5)
            .Select(i => TestInstances.Create(new TestInstances.Spec("ORTHANC-WEB", "Orthanc^Web", study, series1, TestInstances.NewUid(), InstanceNumber: i, Size: 64)))
            .Append(Compressed("dcmcrle", new TestInstances.Spec("ORTHANC-WEB", "Orthanc^Web", study, series2, TestInstances.NewUid(), InstanceNumber: 1, Size: 64, SeriesNumber: 2), _dir))
            .Append(Compressed("dcmcjpls", new TestInstances.Spec("ORTHANC-WEB", "Orthanc^Web", study, series2, TestInstances.NewUid(), InstanceNumber: 2, Size: 64, SeriesNumber: 2), _dir))
            .ToArray();
        var ours = await SeedAsync(files);

        await OrthancPostAsync($"dicom-web/servers/{ServerName}/retrieve", new JsonObject
        {
            ["Resources"] = new JsonArray(new JsonObject { ["Study"] = study }),
        });

        var ids = await Orthanc.ListInstancesAsync();
        Assert.Equal(ours.Count, ids.Count);
        foreach (var id in ids)
        {
            var theirs = await Orthanc.DownloadAsync(id);
            var sop = DicomFile.Read(new MemoryStream(theirs)).Dataset.GetString(DicomTags.SOPInstanceUID);
            Assert.True(ours.TryGetValue(sop, out var archived), $"Orthanc holds {sop}, which we did not send");
            Assert.True(archived.AsSpan().SequenceEqual(theirs), $"Orthanc's copy of {sop} differs from our archived file ({theirs.Length} vs {archived.Length} bytes)");
        }
    }

    [Fact]
    public async Task Orthanc_lists_our_studies_through_QIDO()
    {
        string study = TestInstances.NewUid();
        await SeedAsync(TestInstances.Create(new TestInstances.Spec("ORTHANC-QIDO", "Orthanc^Qido", study, TestInstances.NewUid(), TestInstances.NewUid())));
        var answer = await OrthancPostAsync($"dicom-web/servers/{ServerName}/get", new JsonObject { ["Uri"] = "studies" });
        var uids = answer!.AsArray().Select(s => s!["0020000D"]!["Value"]![0]!.GetValue<string>()).ToList();
        Assert.Contains(study, uids);
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_server != null) await _server.DisposeAsync();
        if (_client != null) await _client.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
