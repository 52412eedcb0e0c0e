using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Kaapana.Dicom;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Interop;

/// <summary>
/// Acceptance with a third-party DICOMweb client: Orthanc's DICOMweb plugin (Debian orthanc-dicomweb) has our server as a
/// remote DICOMweb server (<c>DicomWeb.Servers</c>), lists our studies (QIDO-RS) and retrieves a study (WADO-RS) into its
/// own storage. Orthanc runs in its namespace; our server listens on the host side of the link so Orthanc can call it.
/// </summary>
public sealed class OrthancDicomWebClientTests : IAsyncLifetime
{
    private const string ServerName = "kaapana";
    private OrthancPeer? _orthanc;
    private KaapanaServer? _server;
    private string _dir = "";
    private HttpClient _http = null!;

    private OrthancPeer Orthanc => _orthanc!;
    private KaapanaServer Server => _server!;

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("kaapana-orthanc-dicomweb-").FullName;
        int port = 0;
        _orthanc = await OrthancPeer.StartAsync(ns =>
        {
            port = OrthancPeer.FreePort(ns.HostAddress);
            return new OrthancOptions
            {
                EnableDicomWeb = true,
                Extra = new Dictionary<string, JsonNode?>
                {
                    ["DicomWeb"] = new JsonObject
                    {
                        ["Enable"] = true,
                        ["Root"] = "/dicom-web/",
                        ["EnableWado"] = true,
                        ["Servers"] = new JsonObject { [ServerName] = new JsonArray($"http://{ns.HostAddress}:{port}/dicomweb/") },
                    },
                },
            };
        });
        _server = await KaapanaServer.StartAsync(_dir, http: new Uri($"http://{_orthanc.Network.HostAddress}:{port}"));
        _http = new HttpClient { BaseAddress = _server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
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

    private async Task<JsonNode?> OrthancPostAsync(string uri, JsonObject body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var r = await Orthanc.Http.PostAsync(uri, content);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"Orthanc {uri} answered {(int)r.StatusCode}: {text}\nOrthanc log:\n{Orthanc.Log}\nOur server:\n{Server.Output}");
        return JsonNode.Parse(text);
    }

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
        if (_orthanc != null) await _orthanc.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
