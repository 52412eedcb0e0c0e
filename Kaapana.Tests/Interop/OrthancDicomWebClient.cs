using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Kaapana.Tests.Interop;

/// <summary>
/// Orthanc's DICOMweb plugin as a client of our server: Orthanc in its network namespace has our <c>/dicomweb</c> as the
/// remote DICOMweb server <see cref="ServerName"/>. Our server keeps listening on loopback only (as in production, and as
/// the test fixtures started it); a <see cref="TcpRelay"/> on the host side of the namespace link carries Orthanc's requests
/// to it. One way for every test that has Orthanc call us (QIDO, WADO retrieve, STOW).
/// </summary>
public sealed class OrthancDicomWebClient : IAsyncDisposable
{
    public const string ServerName = "kaapana";

    private readonly TcpRelay _relay;

    private OrthancDicomWebClient(OrthancPeer orthanc, TcpRelay relay)
    {
        Orthanc = orthanc;
        _relay = relay;
    }

    public OrthancPeer Orthanc { get; }

    /// <summary>Starts Orthanc with DICOMweb on, configured to call the server at <paramref name="server"/> (a loopback address).</summary>
    public static async Task<OrthancDicomWebClient> StartAsync(Uri server)
    {
        TcpRelay? relay = null;
        try
        {
            var orthanc = await OrthancPeer.StartAsync(ns =>
            {
                relay = TcpRelay.Start(new IPEndPoint(ns.HostAddress, 0), new IPEndPoint(IPAddress.Loopback, server.Port));
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
                            // [url, username, password]: the plugin sends them as HTTP Basic on every request.
                            ["Servers"] = new JsonObject
                            {
                                [ServerName] = new JsonArray($"http://{relay.Endpoint}/dicomweb/", TestCredentials.AdminUser, TestCredentials.AdminPassword),
                            },
                        },
                    },
                };
            });
            return new OrthancDicomWebClient(orthanc, relay!);
        }
        catch
        {
            if (relay is not null) await relay.DisposeAsync();
            throw;
        }
    }

    /// <summary>POSTs JSON to Orthanc's REST API (e.g. <c>dicom-web/servers/kaapana/qido</c>); fails the test with both logs unless 2xx.</summary>
    public async Task<JsonNode?> PostAsync(string uri, JsonObject body, Func<string>? ourLog = null)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var r = await Orthanc.Http.PostAsync(uri, content);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"Orthanc {uri} answered {(int)r.StatusCode}: {text}\nOrthanc log:\n{Orthanc.Log}\nOur server:\n{ourLog?.Invoke()}");
        return JsonNode.Parse(text);
    }

    public async ValueTask DisposeAsync()
    {
        await Orthanc.DisposeAsync();
        await _relay.DisposeAsync();
    }
}
