using System.Collections.Concurrent;
using System.Net;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Kaapana.Dicom.Network.Query;
using Kaapana.Tests.Interop;

namespace Kaapana.Tests.Dicom.Network.Query;

/// <summary>
/// Our Q/R SCP (<see cref="TestArchive"/> behind a <see cref="DicomServer"/> on 127.0.0.1 as <see cref="AeTitle"/>) over the
/// synthetic data set plus one real pydicom file (CT_small.dcm). Shared by the tests of a class.
/// </summary>
public sealed class QueryRetrieveFixture : IAsyncLifetime
{
    public const string AeTitle = "KAAPANA_QR";

    public string Dir { get; } = Directory.CreateTempSubdirectory("kaapana-qr-").FullName;
    public IReadOnlyList<QueryTestData.Instance> Data { get; private set; } = [];
    public string RealFile { get; private set; } = "";
    public TestArchive Archive { get; private set; } = null!;
    public DicomServer Server { get; private set; } = null!;
    public int Port => Server.LocalEndPoint!.Port;

    public async Task InitializeAsync()
    {
        var data = Path.Combine(Dir, "data");
        Directory.CreateDirectory(data);
        Data = QueryTestData.Write(data);
        RealFile = Path.Combine(data, "CT_small.dcm");
        File.Copy(OrthancFixtureTests.SampleFile("CT_small.dcm"), RealFile);
        Archive = new TestArchive(Data.Select(d => d.Path).Append(RealFile));
        Server = new DicomServer(new DicomServerOptions { BindAddress = "127.0.0.1", Port = 0, AETitles = [AeTitle] }, Archive);
        await Server.StartAsync();
    }

    /// <summary>A client of our SCP.</summary>
    public DicomClient Client(string callingAE = "TEST_SCU") =>
        new(new DicomClientOptions { Host = "127.0.0.1", Port = Port, CalledAE = AeTitle, CallingAE = callingAE });

    public string NewDir(string name) => Directory.CreateDirectory(Path.Combine(Dir, name + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Dir, recursive: true);
    }
}

/// <summary>A storage SCP that keeps what it receives: the Part 10 bytes and the C-STORE request's particulars.</summary>
public sealed class CollectingStoreScp : IStoreHandler, IServiceProvider, IAsyncDisposable
{
    public sealed record Received(string SopInstanceUid, string SopClassUid, string CallingAE, string? MoveOriginatorAE, ushort? MoveOriginatorMessageId,
        DicomTransferSyntax TransferSyntax, byte[] Part10);

    private DicomServer? _server;

    public ConcurrentDictionary<string, Received> Instances { get; } = new();

    /// <summary>Awaited before each store with its ordinal (1, 2, ...): lets a test hold a sub-operation.</summary>
    public Func<int, Task>? BeforeStore { get; init; }

    private int _stores;

    /// <summary>Open connections of the SCP (0 once every sub-association is closed).</summary>
    public int OpenConnections => _server?.OpenConnections ?? 0;

    public object? GetService(Type serviceType) => serviceType == typeof(IStoreHandler) ? this : null;

    public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken ct)
    {
        if (BeforeStore is { } hook) await hook(Interlocked.Increment(ref _stores));
        var ms = new MemoryStream();
        await request.WritePart10Async(ms, ct);
        Instances[request.SopInstanceUid] = new Received(request.SopInstanceUid, request.SopClassUid, request.CallingAE, request.MoveOriginatorAE,
            request.MoveOriginatorMessageId, request.TransferSyntax, ms.ToArray());
        return DicomStatus.Success;
    }

    /// <summary>Listens on <paramref name="address"/>:<paramref name="port"/> (0: any free port) as <paramref name="aeTitle"/>.</summary>
    public async Task<IPEndPoint> StartAsync(IPAddress address, int port, string aeTitle, string[]? storageSopClasses = null)
    {
        _server = new DicomServer(new DicomServerOptions
        {
            BindAddress = address.ToString(),
            Port = port,
            AETitles = [aeTitle],
            StorageSopClasses = storageSopClasses ?? [],
        }, this);
        await _server.StartAsync();
        return _server.LocalEndPoint!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server != null) await _server.DisposeAsync();
    }
}
