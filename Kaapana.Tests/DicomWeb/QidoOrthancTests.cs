using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Kaapana.Tests.Interop;

namespace Kaapana.Tests.DicomWeb;

/// <summary>
/// Orthanc's DICOMweb plugin as a client of our QIDO-RS (its <c>/dicom-web/servers/{name}/qido</c> proxy): it reads our
/// answers, empty ones (200 with <c>[]</c>) included. Orthanc runs in a test network namespace; the server listens on loopback,
/// so a small TCP relay on the namespace's host address forwards Orthanc's HTTP requests to it.
/// </summary>
public sealed class QidoOrthancTests(QidoFixture fx) : IClassFixture<QidoFixture>
{
    [Fact]
    public async Task Orthanc_dicomweb_client_reads_our_search_results_and_empty_answers()
    {
        await using var relay = new TcpRelay();
        await using var orthanc = await OrthancPeer.StartAsync(ns =>
        {
            relay.Start(new IPEndPoint(ns.HostAddress, 0), new IPEndPoint(IPAddress.Loopback, fx.Server.BaseAddress.Port));
            return new OrthancOptions
            {
                EnableDicomWeb = true,
                Extra = new Dictionary<string, JsonNode?>
                {
                    ["DicomWeb"] = new JsonObject
                    {
                        ["Enable"] = true,
                        ["Root"] = "/dicom-web/",
                        ["Servers"] = new JsonObject { ["kaapana"] = new JsonArray($"http://{ns.HostAddress}:{relay.Port}/dicomweb/") },
                    },
                },
            };
        });

        // Orthanc answers its own rendering of the DICOM JSON it received: tag -> { "Name", "vr", "Value" (text) }.
        async Task<JsonArray> Qido(string uri, JsonObject arguments)
        {
            var body = new JsonObject { ["Uri"] = uri, ["Arguments"] = arguments }.ToJsonString();
            using var r = await orthanc.Http.PostAsync("dicom-web/servers/kaapana/qido", new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.IsSuccessStatusCode, $"Orthanc QIDO proxy {uri}: {(int)r.StatusCode} {text}\n{orthanc.Log}");
            return JsonNode.Parse(text)!.AsArray();
        }

        var studies = await Qido("/studies", new JsonObject { ["PatientID"] = "PID-MUELLER" });
        var study = Assert.Single(studies)!;
        Assert.Equal("Müller^Hans", Value(study, "00100010"));
        Assert.Equal("PID-MUELLER", Value(study, "00100020"));
        var studyUid = Value(study, "0020000D");

        var series = await Qido($"/studies/{studyUid}/series", new JsonObject());
        Assert.Equal("CT", Value(Assert.Single(series)!, "00080060"));
        var instances = await Qido($"/studies/{studyUid}/series/{Value(series[0]!, "0020000E")}/instances", new JsonObject());
        Assert.Equal(fx.Instances.Where(i => i.Study == studyUid).Select(i => i.Sop).Order(), instances.Select(i => Value(i!, "00080018")).Order());

        var all = await Qido("/studies", new JsonObject { ["limit"] = "100" });
        Assert.Equal(fx.Instances.Select(i => i.Study).Distinct().Count(), all.Count);

        Assert.Empty(await Qido("/studies", new JsonObject { ["PatientID"] = "NOBODY" }));
    }

    private static string? Value(JsonNode result, string tag) => result[tag]?["Value"]?.ToString();

    /// <summary>Forwards every TCP connection accepted on one endpoint to another (both directions, until either side closes).</summary>
    private sealed class TcpRelay : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private TcpListener? _listener;
        private Task _accepting = Task.CompletedTask;

        public int Port => ((IPEndPoint)_listener!.LocalEndpoint).Port;

        public void Start(IPEndPoint listen, IPEndPoint target)
        {
            _listener = new TcpListener(listen);
            _listener.Start();
            _accepting = AcceptAsync(target);
        }

        private async Task AcceptAsync(IPEndPoint target)
        {
            var token = _stop.Token;
            try
            {
                while (!token.IsCancellationRequested)
                {
                    var inbound = await _listener!.AcceptTcpClientAsync(token);
                    _ = PumpAsync(inbound, target, token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private static async Task PumpAsync(TcpClient inbound, IPEndPoint target, CancellationToken token)
        {
            using (inbound)
            using (var outbound = new TcpClient())
            {
                try
                {
                    await outbound.ConnectAsync(target, token);
                    var a = inbound.GetStream();
                    var b = outbound.GetStream();
                    await Task.WhenAny(a.CopyToAsync(b, token), b.CopyToAsync(a, token));
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
                {
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener?.Stop();
            await _accepting;
            _stop.Dispose();
        }
    }
}
