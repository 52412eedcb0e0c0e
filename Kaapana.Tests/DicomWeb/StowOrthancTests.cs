using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Interop;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.DicomWeb;

/// <summary>
/// Orthanc's DICOMweb plugin as a real STOW-RS client: it sends a study it holds to our /dicomweb. Orthanc lives in its own
/// network namespace, so a small TCP relay on the host side of the link carries its requests to our loopback-only server.
/// </summary>
public sealed class StowOrthancTests(StowServerFixture fixture)
    : IClassFixture<StowServerFixture>
{
    [Fact]
    public async Task Orthanc_stows_a_study_into_the_archive_byte_identical()
    {
        TcpRelay? relay = null;
        await using var orthanc = await OrthancPeer.StartAsync(ns =>
        {
            relay = TcpRelay.Start(new IPEndPoint(ns.HostAddress, OrthancPeer.FreePort(ns.HostAddress)),
                new IPEndPoint(IPAddress.Loopback, fixture.Server.BaseAddress.Port));
            return new OrthancOptions
            {
                EnableDicomWeb = true,
                Extra = new Dictionary<string, JsonNode?>
                {
                    ["DicomWeb"] = new JsonObject
                    {
                        ["Enable"] = true,
                        ["Root"] = "/dicom-web/",
                        ["Servers"] = new JsonObject { ["kaapana"] = new JsonArray($"http://{relay.Endpoint}/dicomweb/") },
                    },
                },
            };
        });
        await using var _ = relay!;

        var study = TestInstances.NewUid();
        var series = TestInstances.NewUid();
        var sent = new Dictionary<string, byte[]>();
        string? orthancStudy = null;
        for (int i = 0; i < 3; i++)
        {
            var sop = TestInstances.NewUid();
            sent[sop] = TestInstances.Create(new TestInstances.Spec("PID-ORTHANC", "Orthanc^Stow", study, series, sop, InstanceNumber: i + 1, Size: 64));
            var id = await orthanc.UploadAsync(sent[sop]);
            orthancStudy ??= (await orthanc.GetJsonAsync($"instances/{id}/study"))!["ID"]!.GetValue<string>();
        }

        using var request = new StringContent(new JsonObject { ["Resources"] = new JsonArray(orthancStudy) }.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await orthanc.Http.PostAsync("dicom-web/servers/kaapana/stow", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"Orthanc STOW: {(int)response.StatusCode} {body}\n{orthanc.Log}\n{fixture.Server.Output}");

        await using var db = fixture.Server.OpenIndex();
        var rows = await db.Instances.AsNoTracking().Where(i => i.Series.SeriesInstanceUID == series).Select(i => new { i.SOPInstanceUID, i.StoragePath, i.Source }).ToListAsync();
        Assert.Equal(sent.Keys.Order(), rows.Select(r => r.SOPInstanceUID).Order());
        foreach (var r in rows)
        {
            Assert.Equal(Core.Archive.Index.IngestSource.Stow, r.Source);
            // Orthanc sends its stored file, which is what we uploaded to it.
            var stored = await File.ReadAllBytesAsync(Path.Combine(fixture.Server.ArchiveDir, r.StoragePath));
            Assert.True(sent[r.SOPInstanceUID].AsSpan().SequenceEqual(stored),
                $"{r.SOPInstanceUID} not stored byte-identical");
        }
    }

    /// <summary>Accepts on one endpoint and pipes each connection to another, both ways, until either side closes.</summary>
    private sealed class TcpRelay : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly IPEndPoint _target;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;

        private TcpRelay(TcpListener listener, IPEndPoint target)
        {
            _listener = listener;
            _target = target;
            _accepting = AcceptAsync();
        }

        public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

        public static TcpRelay Start(IPEndPoint listen, IPEndPoint target)
        {
            var listener = new TcpListener(listen);
            listener.Start();
            return new TcpRelay(listener, target);
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                    _ = PipeAsync(inbound);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task PipeAsync(TcpClient inbound)
        {
            using (inbound)
            using (var outbound = new TcpClient())
            {
                try
                {
                    await outbound.ConnectAsync(_target, _stop.Token);
                    var a = inbound.GetStream();
                    var b = outbound.GetStream();
                    await Task.WhenAny(Forward(a, b), Forward(b, a));
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
                {
                }
            }
        }

        private async Task Forward(NetworkStream from, NetworkStream to)
        {
            try
            {
                await from.CopyToAsync(to, _stop.Token);
                to.Socket.Shutdown(SocketShutdown.Send);
                // Keep the other direction open until it is done too.
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }
    }
}
