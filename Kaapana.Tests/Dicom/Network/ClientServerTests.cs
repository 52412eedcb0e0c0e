using System.Collections.Concurrent;
using System.Security.Cryptography;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kaapana.Tests.Dicom.Network;

/// <summary>Our client against our server: streaming, handler failures, transcoding, DI, shutdown, and the primitives Q/R builds on.</summary>
public class ClientServerTests
{
    private static readonly DicomPresentationContextRequest Verification =
        new(DicomUids.Verification, DicomPresentationContextRequest.UncompressedTransferSyntaxes);

    private const string StudyRootFind = "1.2.840.10008.5.1.4.1.2.2.1";
    private const string StudyRootGet = "1.2.840.10008.5.1.4.1.2.2.3";

    private static DicomServer NewServer(IServiceProvider services, Action<DicomServerOptions>? configure = null, DimseServiceRegistry? registry = null,
        ILoggerFactory? logs = null)
    {
        var o = new DicomServerOptions { BindAddress = "127.0.0.1", Port = 0, ShutdownGracePeriod = TimeSpan.FromSeconds(2) };
        configure?.Invoke(o);
        return new DicomServer(o, services, logs, registry);
    }

    private static DicomClient ClientFor(DicomServer server, IServiceProvider? services = null, uint maxPdu = 256 * 1024) =>
        new(new DicomClientOptions { Host = "127.0.0.1", Port = server.LocalEndPoint!.Port, CalledAE = "ANY", MaxPduLength = maxPdu }, services);

    // Both transports of the acceptor: a thread per association with blocking reads (the default), and the thread pool.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Echo_and_store_round_trip_byte_for_byte_with_small_pdus(bool threadPerAssociation)
    {
        using var tmp = new TempDir();
        var store = new RecordingStoreHandler(tmp.Sub("in"));
        await using var sp = new ServiceCollection().AddSingleton<IStoreHandler>(store).BuildServiceProvider();
        // The server accepts 4 KiB PDUs: every message is cut into many fragments.
        await using var server = NewServer(sp, o => { o.MaxPduLength = 4096; o.ThreadPerAssociation = threadPerAssociation; });
        await server.StartAsync();
        var files = SampleData.WriteSyntheticCtSeries(tmp.Sub("src"), 3);
        var client = ClientFor(server);
        Assert.Equal(DicomStatus.Success, await client.EchoAsync());

        await using (var a = await client.ConnectAsync([Verification, new(DicomUids.CTImageStorage, DicomTransferSyntax.ExplicitVRLittleEndian)]))
        {
            Assert.Equal(4096u, a.PeerMaxPduLength);
            Assert.Equal(DicomImplementation.ClassUid, a.PeerImplementationClassUid);
            Assert.Equal(DicomStatus.Success, (await a.StoreFileAsync(files[0])).Status);
            await using (var fs = File.OpenRead(files[1]))
                Assert.Equal(DicomStatus.Success, (await a.StoreAsync(fs)).Status);
            Assert.Equal(DicomStatus.Success, (await a.StoreAsync(DicomFile.Open(files[2]))).Status);
            await a.ReleaseAsync();
        }
        var received = store.Ordered;
        Assert.Equal(3, received.Count);
        for (int i = 0; i < 3; i++)
            Assert.Equal(DatasetBytes(files[i]), DatasetBytes(received[i].Path)); // same syntax: the exact bytes
        await WaitNoConnectionsAsync(server);
    }

    /// <summary>
    /// The data set reaches the handler while it is still being sent: the client's source withholds its second half until the
    /// handler has seen the first bytes. A server that collected whole messages before calling the handler would never finish.
    /// </summary>
    [Fact]
    public async Task Store_data_set_is_streamed_to_the_handler_as_it_arrives()
    {
        var ds = new DicomDataset();
        ds.Set(DicomTags.SOPClassUID, DicomUids.CTImageStorage);
        var uid = SampleData.NewUid();
        ds.Set(DicomTags.SOPInstanceUID, uid);
        var pixels = new byte[24 * 1024 * 1024];
        new Random(5).NextBytes(pixels);
        ds.SetBytes(DicomTags.PixelData, DicomVR.OB, pixels);
        var encoded = new MemoryStream();
        DicomWriter.WriteDataset(encoded, ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        var bytes = encoded.ToArray();

        GatedStream? source = null;
        var handler = new HashingStoreHandler(() => source!.Position);
        await using var sp = new ServiceCollection().AddSingleton<IStoreHandler>(handler).BuildServiceProvider();
        await using var server = NewServer(sp);
        await server.StartAsync();
        await using var a = await ClientFor(server).ConnectAsync([new(DicomUids.CTImageStorage, DicomTransferSyntax.ExplicitVRLittleEndian)]);
        source = new GatedStream(bytes, gateAt: bytes.Length / 2, handler.FirstBytes.Task);
        var command = DimseCommand.CreateStoreRequest(DicomUids.CTImageStorage, uid);
        var rsp = await a.SendRequestForFinalResponseAsync(1, command, DimseDataset.FromEncoded(source, DicomTransferSyntax.ExplicitVRLittleEndian))
            .WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(DicomStatus.Success, rsp.Status);
        Assert.True(handler.SourcePositionAtFirstBytes <= bytes.Length / 2);
        Assert.Equal(bytes.Length, handler.Length);
        Assert.Equal(SHA256.HashData(bytes), handler.Hash);
        await a.ReleaseAsync();
    }

    /// <summary>A handler that refuses without reading (or throws): the rest of the data set is discarded, the association goes on.</summary>
    [Fact]
    public async Task Handler_refusal_and_failure_become_statuses_and_the_association_survives()
    {
        using var tmp = new TempDir();
        var handler = new ScriptedStoreHandler();
        await using var sp = new ServiceCollection().AddSingleton<IStoreHandler>(handler).BuildServiceProvider();
        await using var server = NewServer(sp);
        await server.StartAsync();
        var file = SampleData.WriteSyntheticCtSeries(tmp.Sub("src"), 1, size: 512)[0];
        await using var a = await ClientFor(server).ConnectAsync([Verification, new(DicomUids.CTImageStorage, DicomTransferSyntax.ExplicitVRLittleEndian)]);

        handler.Next = _ => ValueTask.FromResult(new DicomStatus(0xA711)); // refuse at once, nothing read
        Assert.Equal(0xA711, (await a.StoreFileAsync(file)).Status.Code);

        handler.Next = _ => throw new IOException("disk full");
        var failed = await a.StoreFileAsync(file);
        Assert.Equal(DicomStatus.OutOfResources, failed.Status);
        Assert.Equal("disk full", failed.ErrorComment);

        handler.Next = async r => { await r.Dataset.CopyToAsync(Stream.Null); return DicomStatus.CoercionOfDataElements; };
        var warned = await a.StoreFileAsync(file);
        Assert.True(warned.Status.IsWarning);
        Assert.True((await a.EchoAsync()).Status.IsSuccess);
        await a.ReleaseAsync();
    }

    [Fact]
    public async Task Client_transcodes_among_uncompressed_syntaxes_and_refuses_to_decompress()
    {
        using var tmp = new TempDir();
        var store = new RecordingStoreHandler(tmp.Sub("in"));
        await using var sp = new ServiceCollection().AddSingleton<IStoreHandler>(store).BuildServiceProvider();
        await using var server = NewServer(sp, o =>
        {
            o.TransferSyntaxes = [DicomUids.ExplicitVRLittleEndian];
            o.AcceptCompressedForStorage = false;
        });
        await server.StartAsync();
        var bigEndian = Path.Combine(SampleData.RequireTestFiles(), "MR_small_bigendian.dcm");
        var rle = Path.Combine(SampleData.RequireTestFiles(), "MR_small_RLE.dcm");

        var results = await ClientFor(server).StoreFilesAsync([bigEndian, rle]);
        Assert.True(results[0].Succeeded, $"{results[0].Error}");
        Assert.Equal(DicomUids.ExplicitVRLittleEndian, store.Ordered.Single().TransferSyntaxUid);
        await SampleData.AssertSameDatasetAsync(bigEndian, store.Ordered.Single().Path, tmp.Path);
        var error = Assert.IsType<DicomNetworkException>(results[1].Error);
        Assert.Contains("RLE Lossless", error.Message);
        Assert.Contains("decompression, which is not supported yet", error.Message);
        await WaitNoConnectionsAsync(server);
    }

    /// <summary>Handlers are resolved per association from a DI scope, with any constructor, and the scope is disposed after.</summary>
    [Fact]
    public async Task Scoped_handlers_get_one_instance_per_association()
    {
        using var tmp = new TempDir();
        var sc = new ServiceCollection();
        sc.AddSingleton(new HandlerLog());
        sc.AddScoped<IStoreHandler, ScopedStoreHandler>();
        await using var sp = sc.BuildServiceProvider(validateScopes: true);
        await using var server = NewServer(sp);
        await server.StartAsync();
        var files = SampleData.WriteSyntheticCtSeries(tmp.Sub("src"), 4);
        var client = ClientFor(server);
        Assert.All(await client.StoreFilesAsync(files[..2]), r => Assert.True(r.Succeeded));
        Assert.All(await client.StoreFilesAsync(files[2..]), r => Assert.True(r.Succeeded));
        await WaitNoConnectionsAsync(server);
        var log = sp.GetRequiredService<HandlerLog>();
        Assert.Equal(2, log.Created);
        Assert.Equal(2, log.Disposed);
        Assert.Equal(4, log.Stored);
    }

    /// <summary>A handler that cannot be built (e.g. its database is down): associations are rejected transiently, nothing leaks.</summary>
    [Fact]
    public async Task Failing_handler_construction_rejects_transiently()
    {
        await using var sp = new ServiceCollection().AddScoped<IStoreHandler>(_ => throw new InvalidOperationException("database down")).BuildServiceProvider();
        await using var server = NewServer(sp);
        await server.StartAsync();
        var ex = await Assert.ThrowsAsync<DicomAssociationRejectedException>(() => ClientFor(server).EchoAsync());
        Assert.Equal(DicomRejectResult.Transient, ex.Result);
        Assert.Equal(DicomRejectSource.ServiceUser, ex.RejectSource);
        await WaitNoConnectionsAsync(server);
    }

    /// <summary>What a C-FIND service is built from: pending responses with identifiers, a final status, and C-CANCEL.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Pending_responses_stream_and_cancel_reaches_the_service(bool threadPerAssociation)
    {
        var find = new CountingFindService();
        var registry = DimseServiceRegistry.CreateDefault().Replace(find);
        await using var sp = new ServiceCollection().BuildServiceProvider();
        await using var server = NewServer(sp, o => o.ThreadPerAssociation = threadPerAssociation, registry: registry);
        await server.StartAsync();
        await using var a = await ClientFor(server).ConnectAsync([Verification, new(StudyRootFind, DicomTransferSyntax.ExplicitVRLittleEndian)]);
        var pc = a.FindContextForRequest(StudyRootFind)!;
        var query = new DicomDataset();
        query.Set(DicomTags.QueryRetrieveLevel, "STUDY");
        query.Set(DicomTags.PatientID, "3"); // the service answers with this many matches

        var responses = new List<DimseMessage>();
        await foreach (var r in a.SendRequestAsync(pc.Id, DimseCommand.CreateRequest(DimseCommandField.CFindRequest, StudyRootFind, true), DimseDataset.FromDataset(query)))
            responses.Add(r);
        Assert.Equal(4, responses.Count);
        Assert.All(responses.Take(3), r => Assert.Equal(DicomStatus.Pending, r.Status));
        Assert.Equal(["0", "1", "2"], responses.Take(3).Select(r => r.Dataset!.GetString(DicomTags.StudyID)));
        Assert.Equal(DicomStatus.Success, responses[3].Status);
        Assert.Null(responses[3].Dataset);

        // Endless matches, cancelled by the client after two.
        query.Set(DicomTags.PatientID, "-1");
        using var cts = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var r in a.SendRequestAsync(pc.Id, DimseCommand.CreateRequest(DimseCommandField.CFindRequest, StudyRootFind, true), DimseDataset.FromDataset(query), cts.Token))
                if (++seen == 2) cts.Cancel();
        });
        Assert.True(await find.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True((await a.EchoAsync()).Status.IsSuccess);

        // A command nobody serves: 0211 unrecognized operation.
        var nget = DimseCommand.CreateRequest(DimseCommandField.NGetRequest, DicomUids.Verification, false);
        var unknown = await a.SendRequestForFinalResponseAsync(a.FindContextForRequest(DicomUids.Verification)!.Id, nget);
        Assert.Equal(DicomStatus.UnrecognizedOperation, unknown.Status);
        Assert.Equal(DimseCommandField.NGetResponse, unknown.CommandField);
        await a.ReleaseAsync();
    }

    /// <summary>What a C-GET service is built from: role selection, and C-STORE sub-operations sent by the acceptor to the requestor.</summary>
    [Fact]
    public async Task Acceptor_sends_store_sub_operations_back_to_the_requestor()
    {
        using var tmp = new TempDir();
        var file = SampleData.WriteSyntheticCtSeries(tmp.Sub("src"), 1)[0];
        var registry = DimseServiceRegistry.CreateDefault().Replace(new OneFileGetService(file));
        await using var serverServices = new ServiceCollection().BuildServiceProvider(); // no store handler on the server
        await using var server = NewServer(serverServices, registry: registry);
        await server.StartAsync();

        var received = new RecordingStoreHandler(tmp.Sub("got"));
        await using var clientServices = new ServiceCollection().AddSingleton<IStoreHandler>(received).BuildServiceProvider();
        await using var a = await ClientFor(server, clientServices).ConnectAsync([
            new(StudyRootGet, DicomPresentationContextRequest.UncompressedTransferSyntaxes),
            new(DicomUids.CTImageStorage, DicomPresentationContextRequest.UncompressedTransferSyntaxes, ScuRole: false, ScpRole: true),
        ]);
        var ct = a.GetPresentationContext(3)!;
        Assert.True(ct.IsAccepted && ct.RequestorIsScp && !ct.RequestorIsScu);
        var identifier = new DicomDataset();
        identifier.Set(DicomTags.QueryRetrieveLevel, "STUDY");
        var final = await a.SendRequestForFinalResponseAsync(1, DimseCommand.CreateRequest(DimseCommandField.CGetRequest, StudyRootGet, true), DimseDataset.FromDataset(identifier));
        Assert.Equal(DicomStatus.Success, final.Status);
        Assert.Equal((ushort)1, final.Command.Get<ushort>(DicomTags.NumberOfCompletedSuboperations));
        var got = Assert.Single(received.Ordered);
        Assert.Equal(DatasetBytes(file), DatasetBytes(got.Path));
        await a.ReleaseAsync();
    }

    /// <summary>
    /// With a thread per association, every C-STORE of an association is received and handled on that association's own thread
    /// (not a pool thread), one thread per association; without, on pool threads.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Store_handlers_run_on_the_associations_own_thread_when_configured(bool threadPerAssociation)
    {
        using var tmp = new TempDir();
        var files = SampleData.WriteSyntheticCtSeries(tmp.Sub("src"), 4);
        var handler = new ThreadRecordingStoreHandler();
        await using var sp = new ServiceCollection().AddSingleton<IStoreHandler>(handler).BuildServiceProvider();
        await using var server = NewServer(sp, o => o.ThreadPerAssociation = threadPerAssociation);
        await server.StartAsync();
        for (int association = 0; association < 2; association++)
        {
            await using var a = await ClientFor(server).ConnectAsync([new(DicomUids.CTImageStorage, DicomTransferSyntax.ExplicitVRLittleEndian)]);
            foreach (var file in files) Assert.Equal(DicomStatus.Success, (await a.StoreFileAsync(file)).Status);
            await a.ReleaseAsync();
        }
        var seen = handler.Threads.ToList();
        Assert.Equal(8, seen.Count);
        if (threadPerAssociation)
        {
            Assert.All(seen, t => Assert.False(t.PoolThread));
            Assert.All(seen, t => Assert.StartsWith("DICOM assoc ", t.Name));
            Assert.Single(seen.Take(4).Select(t => t.Id).Distinct());
            Assert.Single(seen.Skip(4).Select(t => t.Id).Distinct());
            Assert.NotEqual(seen[0].Id, seen[4].Id);
        }
        else
        {
            Assert.All(seen, t => Assert.True(t.PoolThread));
        }
    }

    private sealed class ThreadRecordingStoreHandler : IStoreHandler
    {
        public ConcurrentQueue<(int Id, string? Name, bool PoolThread)> Threads { get; } = new();

        public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken ct)
        {
            await request.Dataset.CopyToAsync(Stream.Null, ct);
            var t = Thread.CurrentThread;
            Threads.Enqueue((t.ManagedThreadId, t.Name, t.IsThreadPoolThread));
            return DicomStatus.Success;
        }
    }

    /// <summary>Stop: no new connections, running associations get the grace period, then are aborted; nothing is left open.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Shutdown_waits_for_a_grace_period_then_aborts(bool threadPerAssociation)
    {
        await using var sp = new ServiceCollection().BuildServiceProvider();
        var server = NewServer(sp, o => { o.ShutdownGracePeriod = TimeSpan.FromSeconds(2); o.ThreadPerAssociation = threadPerAssociation; });
        await server.StartAsync();
        var client = ClientFor(server);
        var idle = await client.ConnectAsync([Verification]);
        var releasing = await client.ConnectAsync([Verification]);
        var stop = server.StopAsync();
        await releasing.ReleaseAsync(); // finishes within the grace period: a clean release
        await stop.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, server.OpenConnections);
        await idle.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("aborted by the peer", idle.EndReason);
        Assert.Equal("released", releasing.EndReason);
        await Assert.ThrowsAsync<DicomNetworkException>(() => client.EchoAsync());
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Folder_store_handler_writes_part10_files_named_by_instance_uid()
    {
        using var tmp = new TempDir();
        var folder = tmp.Sub("archive");
        await using var sp = new ServiceCollection().AddSingleton<IStoreHandler>(new DicomFolderStoreHandler(folder)).BuildServiceProvider();
        await using var server = NewServer(sp);
        await server.StartAsync();
        var src = Path.Combine(SampleData.RequireTestFiles(), "CT_small.dcm");
        var r = await Dcmtk.RunAsync("storescu", ["-aet", "MODALITY", "127.0.0.1", server.LocalEndPoint!.Port.ToString(), src]);
        Assert.True(r.ExitCode == 0, r.Output);
        var uid = DicomFile.Open(src).Dataset.GetString(DicomTags.SOPInstanceUID);
        var written = Assert.Single(Directory.GetFiles(folder));
        Assert.Equal(uid + ".dcm", Path.GetFileName(written));
        var file = DicomFile.Open(written);
        Assert.Equal("MODALITY", file.FileMetaInfo.GetString(DicomTags.SourceApplicationEntityTitle));
        Assert.Equal(DicomImplementation.ClassUid, file.FileMetaInfo.GetString(DicomTags.ImplementationClassUID));
        Assert.Equal(uid, file.FileMetaInfo.GetString(DicomTags.MediaStorageSOPInstanceUID));
        var dump = await Dcmtk.RunAsync("dcmdump", ["-q", written]);
        Assert.True(dump.ExitCode == 0, dump.Output);
    }

    // ------------------------------------------------------------------ helpers

    private static byte[] DatasetBytes(string path)
    {
        using var fs = File.OpenRead(path);
        var h = DicomFileMeta.TryReadHeaderAsync(fs, CancellationToken.None).GetAwaiter().GetResult()!;
        var ms = new MemoryStream();
        fs.CopyTo(ms);
        return ms.ToArray();
    }

    private static async Task WaitNoConnectionsAsync(DicomServer server)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (server.OpenConnections > 0 && sw.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(10);
        Assert.Equal(0, server.OpenConnections);
    }

    private sealed class HashingStoreHandler(Func<long> sourcePosition) : IStoreHandler
    {
        public TaskCompletionSource FirstBytes { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long SourcePositionAtFirstBytes { get; private set; } = -1;
        public long Length { get; private set; }
        public byte[] Hash { get; private set; } = [];

        public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken ct)
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await request.Dataset.ReadAsync(buffer, ct)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                if (Length == 0) SourcePositionAtFirstBytes = sourcePosition();
                Length += n;
                FirstBytes.TrySetResult();
            }
            Hash = sha.GetHashAndReset();
            return DicomStatus.Success;
        }
    }

    /// <summary>Serves bytes, but stops before <paramref name="gateAt"/> until <paramref name="gate"/> completes.</summary>
    private sealed class GatedStream(byte[] data, int gateAt, Task gate) : ReadOnlyStream
    {
        private int _pos;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_pos == gateAt) await gate.WaitAsync(ct);
            int limit = _pos < gateAt ? gateAt : data.Length;
            int n = Math.Min(buffer.Length, limit - _pos);
            data.AsMemory(_pos, n).CopyTo(buffer);
            _pos += n;
            return n;
        }

        public override int Read(Span<byte> buffer) => throw new NotSupportedException();
        public override long Length => data.Length;
        public override long Position { get => Volatile.Read(ref _pos); set => throw new NotSupportedException(); }
    }

    private sealed class ScriptedStoreHandler : IStoreHandler
    {
        public Func<DicomStoreRequest, ValueTask<DicomStatus>> Next { get; set; } = _ => ValueTask.FromResult(DicomStatus.Success);
        public ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken ct) => Next(request);
    }

    private sealed class HandlerLog
    {
        private int _created, _disposed, _stored;
        public int Created => _created;
        public int Disposed => _disposed;
        public int Stored => _stored;
        public void OnCreated() => Interlocked.Increment(ref _created);
        public void OnDisposed() => Interlocked.Increment(ref _disposed);
        public void OnStored() => Interlocked.Increment(ref _stored);
    }

    private sealed class ScopedStoreHandler : IStoreHandler, IAsyncDisposable
    {
        private readonly HandlerLog _log;
        public ScopedStoreHandler(HandlerLog log)
        {
            _log = log;
            log.OnCreated();
        }

        public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken ct)
        {
            await request.Dataset.CopyToAsync(Stream.Null, ct);
            _log.OnStored();
            return DicomStatus.Success;
        }

        public ValueTask DisposeAsync()
        {
            _log.OnDisposed();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A toy C-FIND service: as many matches as the PatientID says (-1: until cancelled).</summary>
    private sealed class CountingFindService : DimseService
    {
        public TaskCompletionSource<bool> Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override IReadOnlyCollection<DimseCommandField> RequestCommandFields { get; } = [DimseCommandField.CFindRequest];
        public override IEnumerable<string> GetAbstractSyntaxes(IServiceProvider services) => [StudyRootFind];

        public override async Task HandleAsync(DimseRequestContext context, CancellationToken ct)
        {
            var query = (await context.ReadDatasetAsync(ct: ct))!;
            int count = int.Parse(query.GetString(DicomTags.PatientID));
            try
            {
                for (int i = 0; count < 0 || i < count; i++)
                {
                    var match = new DicomDataset();
                    match.Set(DicomTags.QueryRetrieveLevel, "STUDY");
                    match.Set(DicomTags.StudyID, i.ToString());
                    await context.SendResponseAsync(DicomStatus.Pending, match, ct: ct);
                    if (count < 0) await Task.Delay(5, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Cancelled.TrySetResult(true);
                throw;
            }
            await context.SendResponseAsync(DicomStatus.Success, ct: ct);
        }
    }

    /// <summary>A toy C-GET service: sends one file as a C-STORE sub-operation on the same association.</summary>
    private sealed class OneFileGetService(string file) : DimseService
    {
        public override IReadOnlyCollection<DimseCommandField> RequestCommandFields { get; } = [DimseCommandField.CGetRequest];
        public override IEnumerable<string> GetAbstractSyntaxes(IServiceProvider services) => [StudyRootGet];
        public override bool UsesStorageSubOperations => true;

        public override async Task HandleAsync(DimseRequestContext context, CancellationToken ct)
        {
            await context.ReadDatasetAsync(ct: ct);
            var sub = await context.Association.StoreFileAsync(file, ct: ct);
            var rsp = DimseCommand.CreateResponse(context.Request.Command, sub.Status.IsSuccess ? DicomStatus.Success : DicomStatus.SubOperationsCompleteWithFailures);
            rsp.Set<ushort>(DicomTags.NumberOfRemainingSuboperations, DicomVR.US, 0);
            rsp.Set<ushort>(DicomTags.NumberOfCompletedSuboperations, DicomVR.US, (ushort)(sub.Status.IsSuccess ? 1 : 0));
            rsp.Set<ushort>(DicomTags.NumberOfFailedSuboperations, DicomVR.US, (ushort)(sub.Status.IsSuccess ? 0 : 1));
            rsp.Set<ushort>(DicomTags.NumberOfWarningSuboperations, DicomVR.US, 0);
            await context.SendResponseAsync(rsp, ct: ct);
        }
    }
}
