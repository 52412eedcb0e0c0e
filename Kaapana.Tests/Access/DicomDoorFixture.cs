using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Kaapana.Dicom;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Interop;

namespace Kaapana.Tests.Access;

/// <summary>
/// One server for the DICOM door tests: listening on every IPv4 interface, so DCMTK tools reach it both over loopback (which
/// may do everything by default) and from a test network namespace (a non-loopback peer, <see cref="PeerAddress"/>).
/// Receiving endpoints LUNG_AE (project lung) and BRAIN_AE (project brain) each hold one study, stored over loopback;
/// C-MOVE destination LOCALMOVE is 127.0.0.1:<see cref="MovePort"/>.
/// </summary>
public sealed class DicomDoorFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("kaapana-door-").FullName;
    public TestNetworkNamespace Namespace { get; private set; } = null!;
    public KaapanaServer Server { get; private set; } = null!;
    public int MovePort { get; } = TestPorts.Free();
    public string DataDir => Path.Combine(Root, "data");

    /// <summary>Files of the study stored through LUNG_AE (project lung) and through BRAIN_AE (project brain).</summary>
    public List<string> LungFiles { get; private set; } = [];
    public List<string> BrainFiles { get; private set; } = [];
    public string LungStudy { get; private set; } = "";
    public string BrainStudy { get; private set; } = "";
    public string BrainPatient { get; private set; } = "";

    public string Host => Namespace.HostAddress.ToString();
    public string Port => Server.DicomPort.ToString(CultureInfo.InvariantCulture);
    public string PeerAddress => Namespace.PeerAddress.ToString();

    public async Task InitializeAsync()
    {
        Namespace = await TestNetworkNamespace.CreateAsync();
        Directory.CreateDirectory(DataDir);
        Server = await KaapanaServer.StartAsync(DataDir, new Dictionary<string, string>
        {
            // MudBlazor's static files need Development when the server runs from build output (FIELD-NOTES); the admin pages test uses them.
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Kaapana__Archive__ReceivingEndpoints__0__AETitle"] = "LUNG_AE",
            ["Kaapana__Archive__ReceivingEndpoints__0__Project"] = "lung",
            ["Kaapana__Archive__ReceivingEndpoints__1__AETitle"] = "BRAIN_AE",
            ["Kaapana__Archive__ReceivingEndpoints__1__Project"] = "brain",
            ["Kaapana__Dicom__RemoteNodes__0__AETitle"] = "LOCALMOVE",
            ["Kaapana__Dicom__RemoteNodes__0__Host"] = "127.0.0.1",
            ["Kaapana__Dicom__RemoteNodes__0__Port"] = MovePort.ToString(CultureInfo.InvariantCulture),
        }, bindAddress: "0.0.0.0");

        LungFiles = DicomReceiverTests.Generate(Path.Combine(Root, "lung"), 1, 1, 2, 2, namePrefix: "Lung^P");
        BrainFiles = DicomReceiverTests.Generate(Path.Combine(Root, "brain"), 1, 1, 2, 2, namePrefix: "Brain^P");
        LungStudy = Uid(LungFiles[0], DicomTags.StudyInstanceUID);
        BrainStudy = Uid(BrainFiles[0], DicomTags.StudyInstanceUID);
        BrainPatient = Uid(BrainFiles[0], DicomTags.PatientID);
        foreach (var (dir, ae, n) in new[] { ("lung", "LUNG_AE", LungFiles.Count), ("brain", "BRAIN_AE", BrainFiles.Count) })
        {
            var r = await DicomTools.RunAsync("storescu", "-v", "-aec", ae, "+sd", "127.0.0.1", Port, Path.Combine(Root, dir));
            Assert.True(r.ExitCode == 0 && DicomReceiverTests.CountSuccess(r.Output) == n, $"storescu to {ae}: {r}");
        }
    }

    public static string Uid(string file, DicomTag tag) => DicomFile.Open(file).Dataset.GetString(tag);

    /// <summary>A DCMTK tool run inside the namespace (a non-loopback peer), with TCP_NODELAY=1.</summary>
    public Task<Peers.Result> RemoteAsync(string tool, params string[] args) =>
        Namespace.RunAsync("/usr/bin/env", ["TCP_NODELAY=1", DicomTools.Find(tool), .. args], TimeSpan.FromSeconds(120));

    /// <summary>Waits (up to 30 s: the trail is written in batches, associations are summarised when they end) for audit entries the predicate accepts.</summary>
    public async Task<List<JsonElement>> AuditAsync(string query, Func<List<JsonElement>, bool> done)
    {
        using var client = Server.CreateClient();
        return (await AuditTrailPoll.WaitAsync(client, query, done, () => "Server:\n" + Server.Output)).Items;
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        if (Namespace is not null) await Namespace.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
