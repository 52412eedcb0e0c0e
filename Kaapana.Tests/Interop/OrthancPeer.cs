using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kaapana.Tests.Interop;

/// <summary>A DICOM application entity on the network: what an SCU needs to reach it.</summary>
public sealed record DicomEndpoint(string Host, int Port, string AeTitle)
{
    public override string ToString() => $"{AeTitle}@{Host}:{Port}";
}

/// <summary>An AE that Orthanc knows (its <c>DicomModalities</c>): it accepts C-FIND/C-MOVE/C-GET from it and sends C-MOVE results to it.</summary>
public sealed record OrthancModality(string AeTitle, string Host, int Port);

/// <summary>How to configure an <see cref="OrthancPeer"/>.</summary>
public sealed record OrthancOptions
{
    public string AeTitle { get; init; } = "ORTHANC";

    /// <summary>Remote AEs. Hosts are usually the namespace's <see cref="TestNetworkNamespace.HostAddress"/>.</summary>
    public IReadOnlyList<OrthancModality> Modalities { get; init; } = [];

    /// <summary>Load the DICOMweb plugin (Debian orthanc-dicomweb): /dicom-web/ on the HTTP port.</summary>
    public bool EnableDicomWeb { get; init; }

    /// <summary>Further top-level configuration entries (they override the defaults).</summary>
    public IReadOnlyDictionary<string, JsonNode?> Extra { get; init; } = new Dictionary<string, JsonNode?>();
}

/// <summary>
/// Debian's Orthanc 1.10.1 as a test peer, in its own <see cref="TestNetworkNamespace"/> with a temporary storage folder.
/// DICOM on <see cref="DicomEndpoint"/> (port 4242 at the namespace address), REST on <see cref="Http"/> (port 8042, no
/// authentication: nothing but this host can reach it). Every echo/store/find/move/get is allowed, the called AE title is
/// checked, and TCP_NODELAY=1 is set. Disposing kills Orthanc, removes the namespace and deletes the folder.
/// </summary>
public sealed class OrthancPeer : IAsyncDisposable
{
    public const int DicomPort = 4242;
    public const int HttpPort = 8042;
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(60);

    private readonly string _dir;
    private PeerProcess? _process;

    private OrthancPeer(TestNetworkNamespace network, OrthancOptions options, string dir)
    {
        Network = network;
        Options = options;
        _dir = dir;
        Http = new HttpClient { BaseAddress = new Uri($"http://{network.PeerAddress}:{HttpPort}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public TestNetworkNamespace Network { get; }
    public OrthancOptions Options { get; }

    /// <summary>Orthanc's DICOM service as seen from the host.</summary>
    public DicomEndpoint DicomEndpoint => new(Network.PeerAddress.ToString(), DicomPort, Options.AeTitle);

    /// <summary>REST API client (base address http://10.x.y.2:8042/).</summary>
    public HttpClient Http { get; }

    /// <summary>What Orthanc has logged so far.</summary>
    public string Log => _process?.Output ?? "";

    /// <summary>
    /// Starts Orthanc in a fresh namespace. <paramref name="configure"/> receives the namespace first, so modalities can use its
    /// host address (and ports chosen with <see cref="FreePort"/>).
    /// </summary>
    public static async Task<OrthancPeer> StartAsync(Func<TestNetworkNamespace, OrthancOptions>? configure = null)
    {
        var orthanc = Peers.Require("Orthanc", "orthanc");
        var network = await TestNetworkNamespace.CreateAsync();
        OrthancPeer? peer = null;
        try
        {
            var options = configure?.Invoke(network) ?? new OrthancOptions();
            if (options.EnableDicomWeb && !File.Exists(DicomWebPlugin))
                throw new InvalidOperationException($"{DicomWebPlugin} is missing: install the Debian package orthanc-dicomweb (apt-get install orthanc-dicomweb).");
            var dir = Directory.CreateTempSubdirectory("kaapana-orthanc-").FullName;
            peer = new OrthancPeer(network, options, dir);
            var config = Path.Combine(dir, "orthanc.json");
            await File.WriteAllTextAsync(config, peer.BuildConfiguration().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            peer._process = network.Start(orthanc, [config], workingDirectory: dir);
            await peer.WaitUntilReadyAsync();
            return peer;
        }
        catch
        {
            if (peer != null) await peer.DisposeAsync();
            else await network.DisposeAsync();
            throw;
        }
    }

    private const string DicomWebPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

    private JsonObject BuildConfiguration()
    {
        var modalities = new JsonObject();
        foreach (var m in Options.Modalities)
            modalities[m.AeTitle] = new JsonArray(m.AeTitle, m.Host, m.Port);
        var config = new JsonObject
        {
            ["Name"] = "KaapanaTestPeer",
            ["StorageDirectory"] = Path.Combine(_dir, "storage"),
            ["IndexDirectory"] = Path.Combine(_dir, "storage"),
            ["Plugins"] = Options.EnableDicomWeb ? new JsonArray(DicomWebPlugin) : new JsonArray(),
            ["HttpServerEnabled"] = true,
            ["HttpPort"] = HttpPort,
            ["RemoteAccessAllowed"] = true,
            ["AuthenticationEnabled"] = false,
            ["DicomServerEnabled"] = true,
            ["DicomAet"] = Options.AeTitle,
            ["DicomPort"] = DicomPort,
            ["DicomCheckCalledAet"] = true,
            ["DicomAlwaysAllowEcho"] = true,
            ["DicomAlwaysAllowStore"] = true,
            ["DicomAlwaysAllowFind"] = true,
            ["DicomAlwaysAllowMove"] = true,
            ["DicomAlwaysAllowGet"] = true,
            ["DicomModalities"] = modalities,
            ["DicomScuTimeout"] = 20,
            ["DicomScpTimeout"] = 30,
            ["UnknownSopClassAccepted"] = true,
            ["StableAge"] = 1,
            ["ConcurrentJobs"] = 2,
            ["HttpCompressionEnabled"] = false,
            ["OrthancExplorerEnabled"] = false,
            ["WebDavEnabled"] = false,
            ["SaveJobs"] = false,
        };
        if (Options.EnableDicomWeb)
            config["DicomWeb"] = new JsonObject { ["Enable"] = true, ["Root"] = "/dicom-web/", ["EnableWado"] = true };
        foreach (var (k, v) in Options.Extra) config[k] = v?.DeepClone();
        return config;
    }

    private async Task WaitUntilReadyAsync()
    {
        var clock = Stopwatch.StartNew();
        using var probe = new HttpClient { BaseAddress = Http.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (clock.Elapsed < StartupTimeout)
        {
            if (_process!.HasExited)
            {
                await _process.WaitForExitAsync(TimeSpan.FromSeconds(5));
                throw new InvalidOperationException($"Orthanc exited with code {_process.ExitCode} before its REST API answered:\n{Log}");
            }
            try
            {
                using var r = await probe.GetAsync("system");
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Orthanc did not answer GET /system within {StartupTimeout}:\n{Log}");
    }

    // ---------------------------------------------------------------- REST helpers

    /// <summary><c>GET /system</c>.</summary>
    public async Task<JsonObject> GetSystemAsync(CancellationToken ct = default) => (JsonObject)(await GetJsonAsync("system", ct))!;

    /// <summary>Uploads a Part 10 file (<c>POST /instances</c>); returns Orthanc's instance ID.</summary>
    public async Task<string> UploadAsync(string path, CancellationToken ct = default) => await UploadAsync(await File.ReadAllBytesAsync(path, ct), ct);

    public async Task<string> UploadAsync(byte[] part10, CancellationToken ct = default)
    {
        using var content = new ByteArrayContent(part10);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        using var r = await Http.PostAsync("instances", content, ct);
        var body = await r.Content.ReadAsStringAsync(ct);
        if (!r.IsSuccessStatusCode) throw new HttpRequestException($"POST /instances answered {(int)r.StatusCode}: {body}");
        var json = JsonNode.Parse(body)!;
        return json["ID"]!.GetValue<string>();
    }

    /// <summary>Orthanc IDs of every stored instance (<c>GET /instances</c>).</summary>
    public async Task<IReadOnlyList<string>> ListInstancesAsync(CancellationToken ct = default) =>
        ((JsonArray)(await GetJsonAsync("instances", ct))!).Select(n => n!.GetValue<string>()).ToArray();

    /// <summary>SOP Instance UIDs of every stored instance.</summary>
    public async Task<IReadOnlyList<string>> ListSopInstanceUidsAsync(CancellationToken ct = default) =>
        ((JsonArray)(await GetJsonAsync("instances?expand", ct))!)
            .Select(n => n!["MainDicomTags"]!["SOPInstanceUID"]!.GetValue<string>()).ToArray();

    /// <summary>The stored file of an instance (<c>GET /instances/{id}/file</c>).</summary>
    public async Task<byte[]> DownloadAsync(string instanceId, CancellationToken ct = default) =>
        await Http.GetByteArrayAsync($"instances/{instanceId}/file", ct);

    /// <summary>Deletes every patient (and so everything).</summary>
    public async Task DeleteAllAsync(CancellationToken ct = default)
    {
        var patients = (JsonArray)(await GetJsonAsync("patients", ct))!;
        foreach (var p in patients)
        {
            using var r = await Http.DeleteAsync($"patients/{p!.GetValue<string>()}", ct);
            r.EnsureSuccessStatusCode();
        }
    }

    public async Task<JsonNode?> GetJsonAsync(string relativeUri, CancellationToken ct = default)
    {
        using var r = await Http.GetAsync(relativeUri, ct);
        var body = await r.Content.ReadAsStringAsync(ct);
        if (!r.IsSuccessStatusCode) throw new HttpRequestException($"GET /{relativeUri} answered {(int)r.StatusCode}: {body}");
        return JsonNode.Parse(body);
    }

    /// <summary>A TCP port free on <paramref name="address"/> right now (for an SCP that Orthanc must be configured to call).</summary>
    public static int FreePort(IPAddress address) => TestPorts.Free(address);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_process != null) await _process.DisposeAsync();
        await Network.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder must not fail the run
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
