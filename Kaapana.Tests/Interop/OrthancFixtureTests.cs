using System.Net.Sockets;
using Kaapana.Dicom;

namespace Kaapana.Tests.Interop;

/// <summary>The Orthanc test peer works: REST, upload, DICOM echo from DCMTK, call-back to the host, isolation and teardown.</summary>
public class OrthancFixtureTests(OrthancFixture fixture) : IClassFixture<OrthancFixture>
{
    private OrthancPeer Orthanc => fixture.Orthanc;

    internal static string SampleFile(string name)
    {
        var path = Path.Combine("/usr/lib/python3/dist-packages/pydicom/data/test_files", name);
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"Sample file {path} is missing: install the Debian package python3-pydicom (apt-get install python3-pydicom).");
    }

    [Fact]
    public async Task Rest_api_answers_with_our_configuration()
    {
        var system = await Orthanc.GetSystemAsync();
        Assert.Equal("1.10.1", system["Version"]!.GetValue<string>());
        Assert.Equal("ORTHANC", system["DicomAet"]!.GetValue<string>());
        Assert.Equal(OrthancPeer.DicomPort, system["DicomPort"]!.GetValue<int>());
        var modalities = (await Orthanc.GetJsonAsync("modalities"))!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        Assert.Contains(OrthancFixture.StoreScpAeTitle, modalities);
    }

    [Fact]
    public async Task Uploaded_instances_are_listed()
    {
        var path = SampleFile("CT_small.dcm");
        var uid = DicomFile.Open(path).Dataset.GetString(DicomTags.SOPInstanceUID);
        var id = await Orthanc.UploadAsync(path);
        Assert.Contains(id, await Orthanc.ListInstancesAsync());
        Assert.Contains(uid, await Orthanc.ListSopInstanceUidsAsync());
        var back = DicomFile.Read(new MemoryStream(await Orthanc.DownloadAsync(id)));
        Assert.Equal(uid, back.Dataset.GetString(DicomTags.SOPInstanceUID));
    }

    [Fact]
    public async Task Dcmtk_echoscu_reaches_orthanc_over_the_link_and_the_called_AE_is_checked()
    {
        var ep = Orthanc.DicomEndpoint;
        var ok = await Peers.RunDcmtkAsync("echoscu", ["-aet", OrthancFixture.DcmtkAeTitle, "-aec", ep.AeTitle, ep.Host, ep.Port.ToString()]);
        Assert.True(ok.ExitCode == 0, ok.Output);
        var wrong = await Peers.RunDcmtkAsync("echoscu", ["-aet", OrthancFixture.DcmtkAeTitle, "-aec", "NOT_ORTHANC", ep.Host, ep.Port.ToString()]);
        Assert.NotEqual(0, wrong.ExitCode);
    }

    [Fact]
    public async Task The_test_process_reaches_orthanc_and_orthanc_reaches_the_host_address()
    {
        // In-process .NET client -> Orthanc (what unshare -n could not give us).
        using (var client = new TcpClient { NoDelay = true })
        {
            await client.ConnectAsync(Orthanc.Network.PeerAddress, OrthancPeer.DicomPort);
            Assert.True(client.Connected);
        }

        // Orthanc -> an SCP on the host side of the link: DCMTK storescp as KAAPANA_SCP receives a C-STORE that Orthanc sends.
        var dir = Directory.CreateTempSubdirectory("kaapana-storescp-").FullName;
        try
        {
            var ep = fixture.StoreScpEndpoint;
            await using var storescp = PeerProcess.Start(Peers.Dcmtk("storescp"),
                ["-aet", ep.AeTitle, "-od", dir, "+xa", ep.Port.ToString()]);
            var id = await Orthanc.UploadAsync(SampleFile("MR_small.dcm"));
            await WaitForListenerAsync(fixture.HostAddress, ep.Port, storescp);
            using var content = new StringContent($"[\"{id}\"]");
            using var r = await Orthanc.Http.PostAsync($"modalities/{ep.AeTitle}/store", content);
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync() + Orthanc.Log + storescp.Output);
            var received = Assert.Single(Directory.GetFiles(dir));
            Assert.Equal(DicomFile.Open(SampleFile("MR_small.dcm")).Dataset.GetString(DicomTags.SOPInstanceUID),
                DicomFile.Open(received).Dataset.GetString(DicomTags.SOPInstanceUID));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_namespace_has_only_loopback_and_the_link_and_no_route_elsewhere()
    {
        var addrs = await Orthanc.Network.RunAsync("ip", ["-o", "-4", "addr", "show"]);
        var lines = addrs.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains(lines, l => l.Contains(" lo ", StringComparison.Ordinal) && l.Contains("127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"{Orthanc.Network.PeerAddress}/30", StringComparison.Ordinal));
        var routes = await Orthanc.Network.RunAsync("ip", ["-4", "route", "show"]);
        Assert.DoesNotContain("default", routes.Stdout);
    }

    [Fact]
    public async Task A_second_peer_with_DICOMweb_works_and_disposing_it_removes_its_namespace_link_and_process()
    {
        var peer = await OrthancPeer.StartAsync(_ => new OrthancOptions { EnableDicomWeb = true });
        Assert.NotEqual(Orthanc.Network.PeerAddress, peer.Network.PeerAddress);
        var studies = await peer.GetJsonAsync("dicom-web/studies");
        Assert.Empty(studies!.AsArray());
        var (ns, link) = (peer.Network.Name, peer.Network.HostInterface);
        Assert.Contains(ns, (await Peers.RunAsync("/usr/sbin/ip", ["netns", "list"])).Stdout);
        await peer.DisposeAsync();
        Assert.DoesNotContain(ns, (await Peers.RunAsync("/usr/sbin/ip", ["netns", "list"])).Stdout);
        Assert.NotEqual(0, (await Peers.RunAsync("/usr/sbin/ip", ["link", "show", link])).ExitCode);
    }

    internal static async Task WaitForListenerAsync(System.Net.IPAddress address, int port, PeerProcess process)
    {
        for (int i = 0; i < 200; i++)
        {
            if (process.HasExited) throw new InvalidOperationException($"The peer exited with {process.ExitCode}:\n{process.Output}");
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(address, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException($"Nothing listens on {address}:{port}:\n{process.Output}");
    }
}
