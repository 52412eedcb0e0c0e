using System.Net;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Kaapana.Dicom.Network.Query;

namespace Kaapana.Tests.Dicom.Network.Query;

/// <summary>Our Q/R SCU against our Q/R SCP: statuses, counts, failures, cancellation.</summary>
public class QueryRetrieveClientTests(QueryRetrieveFixture fx) : IClassFixture<QueryRetrieveFixture>
{
    private static readonly QueryRetrieveInformationModel StudyRoot = QueryRetrieveInformationModel.StudyRoot;
    private static readonly QueryRetrieveInformationModel PatientRoot = QueryRetrieveInformationModel.PatientRoot;

    private QueryTestData.Instance[] Study1 => fx.Data.Where(d => d.PatientId == "PAT001" && d.Modality == "CT").ToArray();

    private static DicomDataset Id(params (DicomTag Tag, string Value)[] keys) => DicomQueryMatchingTests.Ds(keys);

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var x in source) list.Add(x);
        return list;
    }

    [Fact]
    public async Task Find_streams_the_matches_with_the_requested_keys()
    {
        var matches = await ToListAsync(fx.Client().FindAsync(StudyRoot, QueryRetrieveLevel.Study,
            Id((DicomTags.PatientName, "*o*"), (DicomTags.StudyDate, "20200101-"), (DicomTags.StudyInstanceUID, ""), (DicomTags.ModalitiesInStudy, ""))));
        Assert.Equal(2, matches.Count); // Doe 2020 and 2021; Smith 2020 ... has no 'o'; Müller 2019
        Assert.All(matches, m => Assert.Equal("STUDY", m.GetString(DicomTags.QueryRetrieveLevel)));
        Assert.Equal(["CT", "MR"], matches.Select(m => m.GetString(DicomTags.ModalitiesInStudy)).Order());
        var request = fx.Archive.Requests.OfType<DicomFindRequest>().Last();
        Assert.Equal("TEST_SCU", request.CallingAE);
        Assert.Equal(QueryMatchKind.Range, request.Query[DicomTags.StudyDate]!.Kind);
    }

    [Fact]
    public async Task Find_failure_status_raises_with_the_offending_element()
    {
        var ex = await Assert.ThrowsAsync<DicomRequestFailedException>(() =>
            ToListAsync(fx.Client().FindAsync(PatientRoot, QueryRetrieveLevel.Patient, Id((DicomTags.SeriesDescription, "x")))));
        Assert.Equal(DicomStatus.IdentifierDoesNotMatchSopClass, ex.Status);
        Assert.Equal([DicomTags.SeriesDescription], ex.OffendingElements);

        var bad = await Assert.ThrowsAsync<DicomRequestFailedException>(() =>
            ToListAsync(fx.Client().FindAsync(StudyRoot, QueryRetrieveLevel.Study, Id((DicomTags.StudyDate, "2020*")))));
        Assert.Equal([DicomTags.StudyDate], bad.OffendingElements);
    }

    [Fact]
    public async Task Strict_hierarchical_search_needs_the_unique_keys_above()
    {
        fx.Archive.Options = new DicomQueryRetrieveOptions { AllowRelationalQueries = false };
        try
        {
            var ex = await Assert.ThrowsAsync<DicomRequestFailedException>(() =>
                ToListAsync(fx.Client().FindAsync(StudyRoot, QueryRetrieveLevel.Series, Id((DicomTags.Modality, "MR")))));
            Assert.Equal([DicomTags.StudyInstanceUID], ex.OffendingElements);
        }
        finally
        {
            fx.Archive.Options = new DicomQueryRetrieveOptions();
        }
        var relational = await ToListAsync(fx.Client().FindAsync(StudyRoot, QueryRetrieveLevel.Series, Id((DicomTags.Modality, "MR"))));
        Assert.Equal(2, relational.Count);
    }

    [Fact]
    public async Task Cancelling_a_find_sends_C_CANCEL_and_stops_the_handler()
    {
        fx.Archive.MatchDelay = TimeSpan.FromMilliseconds(200);
        try
        {
            var cancelled = fx.Archive.ExpectFindCancellation();
            using var cts = new CancellationTokenSource();
            int seen = 0;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (var _ in fx.Client().FindAsync(StudyRoot, QueryRetrieveLevel.Image, Id((DicomTags.SOPInstanceUID, "")), ct: cts.Token))
                {
                    if (++seen == 1) await cts.CancelAsync();
                }
            });
            await cancelled.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(1, seen);
        }
        finally
        {
            fx.Archive.MatchDelay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Leaving_a_find_early_cancels_it_on_the_SCP_and_the_association_goes_on()
    {
        fx.Archive.MatchDelay = TimeSpan.FromMilliseconds(100);
        var cancelled = fx.Archive.ExpectFindCancellation();
        try
        {
            await using var association = await fx.Client().ConnectAsync(
                [new DicomPresentationContextRequest(StudyRoot.FindSopClassUid, DicomPresentationContextRequest.UncompressedTransferSyntaxes)]);
            await foreach (var _ in association.FindAsync(StudyRoot, QueryRetrieveLevel.Image, Id((DicomTags.SOPInstanceUID, ""))))
                break;
            await cancelled.WaitAsync(TimeSpan.FromSeconds(20));
            fx.Archive.MatchDelay = TimeSpan.Zero;
            var again = await ToListAsync(association.FindAsync(StudyRoot, QueryRetrieveLevel.Study, Id((DicomTags.AccessionNumber, "ACC00?"))));
            Assert.Equal(4, again.Count);
        }
        finally
        {
            fx.Archive.MatchDelay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Move_reports_pending_counts_and_sends_with_move_originator()
    {
        await using var scp = new CollectingStoreScp();
        var ep = await scp.StartAsync(IPAddress.Loopback, 0, "DEST_A");
        fx.Archive.Destinations["DEST_A"] = new("DEST_A", "127.0.0.1", ep.Port);

        var progress = await ToListAsync(fx.Client("MOVER").MoveAsync(StudyRoot, QueryRetrieveLevel.Study,
            Id((DicomTags.StudyInstanceUID, Study1[0].StudyUid)), "DEST_A"));
        Assert.Equal([3, 2, 1], progress.SkipLast(1).Select(p => p.Remaining!.Value));
        Assert.All(progress.SkipLast(1), p => Assert.Equal(DicomStatus.Pending, p.Status));
        var final = progress[^1];
        Assert.Equal((DicomStatus.Success, 4, 0, 0, (int?)null), (final.Status, final.Completed, final.Failed, final.Warning, final.Remaining));
        Assert.Equal(Study1.Select(s => s.SopUid).Order(), scp.Instances.Keys.Order());
        Assert.All(scp.Instances.Values, r =>
        {
            Assert.Equal(QueryRetrieveFixture.AeTitle, r.CallingAE);
            Assert.Equal("MOVER", r.MoveOriginatorAE);
            Assert.NotNull(r.MoveOriginatorMessageId);
        });
        var sent = scp.Instances[Study1[0].SopUid];
        Assert.Equal(File.ReadAllBytes(Study1[0].Path).AsSpan(FileDatasetOffset(Study1[0].Path)).ToArray(),
            sent.Part10.AsSpan(FileDatasetOffset(sent.Part10)).ToArray());
    }

    [Fact]
    public async Task Cancelling_a_move_stops_the_sub_operations_after_the_one_in_flight()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scp = new CollectingStoreScp { BeforeStore = n => n == 2 ? gate.Task : Task.CompletedTask };
        var ep = await scp.StartAsync(IPAddress.Loopback, 0, "SLOW");
        fx.Archive.Destinations["SLOW"] = new("SLOW", "127.0.0.1", ep.Port);
        var cancelled = fx.Archive.ExpectRetrieveCancellation();
        // Once the SCP has seen the C-CANCEL, the sub-operation in flight (if it had started) may finish. (Releasing our
        // association waits for the SCP's operation to end, so this cannot wait until the enumeration has returned.)
        _ = cancelled.ContinueWith(_ => gate.TrySetResult(), TaskScheduler.Default);
        using var cts = new CancellationTokenSource();
        var seen = new List<DicomRetrieveProgress>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var p in fx.Client().MoveAsync(StudyRoot, QueryRetrieveLevel.Study, Id((DicomTags.StudyInstanceUID, Study1[0].StudyUid)), "SLOW",
                ct: cts.Token))
            {
                seen.Add(p);
                await cts.CancelAsync();
            }
        });
        await cancelled.WaitAsync(TimeSpan.FromSeconds(20)); // the SCP got the C-CANCEL
        for (int i = 0; i < 400 && scp.OpenConnections > 0; i++) await Task.Delay(50);
        Assert.Equal(0, scp.OpenConnections); // the sub-association was released
        Assert.Equal((DicomStatus.Pending, 3), (Assert.Single(seen).Status, seen[0].Remaining));
        Assert.InRange(scp.Instances.Count, 1, 2); // not all four
    }

    [Fact]
    public async Task Move_failures_are_counted_and_listed()
    {
        // The destination takes CT only: the MR instances of patient PAT001 fail.
        await using var scp = new CollectingStoreScp();
        var ep = await scp.StartAsync(IPAddress.Loopback, 0, "CT_ONLY", [DicomUids.CTImageStorage]);
        fx.Archive.Destinations["CT_ONLY"] = new("CT_ONLY", "127.0.0.1", ep.Port);
        var progress = await ToListAsync(fx.Client().MoveAsync(PatientRoot, QueryRetrieveLevel.Patient, Id((DicomTags.PatientID, "PAT001")), "CT_ONLY"));
        var final = progress[^1];
        var mr = fx.Data.Where(d => d.PatientId == "PAT001" && d.Modality == "MR").Select(d => d.SopUid).Order().ToArray();
        Assert.Equal(DicomStatus.SubOperationsCompleteWithFailures, final.Status);
        Assert.Equal((4, 2), (final.Completed, final.Failed));
        Assert.Equal(mr, final.FailedSopInstanceUids.Order());
        Assert.Equal(4, scp.Instances.Count);
    }

    [Fact]
    public async Task Move_to_an_unknown_or_unreachable_destination()
    {
        var unknown = await ToListAsync(fx.Client().MoveAsync(StudyRoot, QueryRetrieveLevel.Study, Id((DicomTags.StudyInstanceUID, Study1[0].StudyUid)), "NOBODY"));
        Assert.Equal(DicomStatus.MoveDestinationUnknown, Assert.Single(unknown).Status);

        fx.Archive.Destinations["DOWN"] = new("DOWN", "127.0.0.1", Interop.OrthancPeer.FreePort(IPAddress.Loopback));
        var down = await ToListAsync(fx.Client().MoveAsync(StudyRoot, QueryRetrieveLevel.Study, Id((DicomTags.StudyInstanceUID, Study1[0].StudyUid)), "DOWN"));
        var final = down[^1];
        Assert.Equal(DicomStatus.OutOfResourcesUnableToPerformSubOperations, final.Status);
        Assert.Equal((0, 4), (final.Completed, final.Failed));
        Assert.Equal(Study1.Select(s => s.SopUid).Order(), final.FailedSopInstanceUids.Order());
    }

    [Fact]
    public async Task Move_of_nothing_succeeds_with_zero_counts()
    {
        var progress = await ToListAsync(fx.Client().MoveAsync(StudyRoot, QueryRetrieveLevel.Study, Id((DicomTags.StudyInstanceUID, "1.2.3.4")), "NOBODY"));
        // The destination is resolved before the instances: unknown wins.
        Assert.Equal(DicomStatus.MoveDestinationUnknown, Assert.Single(progress).Status);
        await using var scp = new CollectingStoreScp();
        var ep = await scp.StartAsync(IPAddress.Loopback, 0, "EMPTY");
        fx.Archive.Destinations["EMPTY"] = new("EMPTY", "127.0.0.1", ep.Port);
        var empty = await ToListAsync(fx.Client().MoveAsync(StudyRoot, QueryRetrieveLevel.Study, Id((DicomTags.StudyInstanceUID, "1.2.3.4")), "EMPTY"));
        Assert.Equal((DicomStatus.Success, 0, 0), (Assert.Single(empty).Status, empty[0].Completed, empty[0].Failed));
    }

    [Fact]
    public async Task Get_delivers_instances_to_the_callback_on_the_same_association()
    {
        var received = new Dictionary<string, byte[]>();
        var series = fx.Data.First(d => d.Modality == "MR");
        var progress = await ToListAsync(fx.Client().GetAsync(StudyRoot, QueryRetrieveLevel.Series,
            Id((DicomTags.StudyInstanceUID, series.StudyUid), (DicomTags.SeriesInstanceUID, series.SeriesUid)),
            async (request, ct) =>
            {
                var ms = new MemoryStream();
                await request.WritePart10Async(ms, ct);
                lock (received) received[request.SopInstanceUid] = ms.ToArray();
                return DicomStatus.Success;
            }));
        var expected = fx.Data.Where(d => d.SeriesUid == series.SeriesUid).ToArray();
        Assert.Equal((DicomStatus.Success, expected.Length), (progress[^1].Status, progress[^1].Completed));
        Assert.Equal(expected.Select(e => e.SopUid).Order(), received.Keys.Order());
        foreach (var e in expected)
            Assert.Equal(File.ReadAllBytes(e.Path).AsSpan(FileDatasetOffset(e.Path)).ToArray(), received[e.SopUid].AsSpan(FileDatasetOffset(received[e.SopUid])).ToArray());
    }

    [Fact]
    public async Task Get_of_a_class_without_an_SCP_role_context_fails_that_sub_operation()
    {
        int stored = 0;
        var progress = await ToListAsync(fx.Client().GetAsync(PatientRoot, QueryRetrieveLevel.Patient, Id((DicomTags.PatientID, "PAT001")),
            async (request, ct) =>
            {
                await request.Dataset.CopyToAsync(Stream.Null, ct);
                Interlocked.Increment(ref stored);
                return DicomStatus.Success;
            }, new DicomGetOptions { StorageSopClasses = [DicomUids.CTImageStorage] }));
        var final = progress[^1];
        Assert.Equal(DicomStatus.SubOperationsCompleteWithFailures, final.Status);
        Assert.Equal((4, 2, 4), (final.Completed, final.Failed, stored));
        Assert.Equal(2, final.FailedSopInstanceUids.Count);
    }

    [Fact]
    public async Task Abstract_syntaxes_are_offered_only_with_their_handler()
    {
        await using var server = new DicomServer(new DicomServerOptions { BindAddress = "127.0.0.1", Port = 0 }, new OnlyFind(fx.Archive));
        await server.StartAsync();
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.LocalEndPoint!.Port });
        await using var a = await client.ConnectAsync(
            QueryRetrieveInformationModel.All.SelectMany(m => new[] { m.FindSopClassUid, m.MoveSopClassUid, m.GetSopClassUid })
                .Select(uid => new DicomPresentationContextRequest(uid, DicomPresentationContextRequest.UncompressedTransferSyntaxes)));
        Assert.Equal(QueryRetrieveInformationModel.SopClassUids(QueryRetrieveOperation.Find).Order(),
            a.PresentationContexts.Where(pc => pc.IsAccepted).Select(pc => pc.AbstractSyntax).Order());
    }

    private sealed class OnlyFind(IFindHandler find) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(IFindHandler) ? find : null;
    }

    [Fact]
    public async Task A_get_handler_accepts_storage_contexts_only_for_the_scp_role()
    {
        // C-GET needs storage contexts in which the requestor is the SCP; they must not let plain C-STOREs in.
        await using var server = new DicomServer(new DicomServerOptions { BindAddress = "127.0.0.1", Port = 0 }, new OnlyGet(fx.Archive));
        await server.StartAsync();
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.LocalEndPoint!.Port });
        var ct = DicomUids.CTImageStorage;
        var mr = DicomUids.MRImageStorage;
        await using var a = await client.ConnectAsync(
        [
            new DicomPresentationContextRequest(QueryRetrieveInformationModel.StudyRoot.GetSopClassUid, DicomPresentationContextRequest.UncompressedTransferSyntaxes),
            new DicomPresentationContextRequest(ct, DicomPresentationContextRequest.UncompressedTransferSyntaxes, ScuRole: false, ScpRole: true),
            new DicomPresentationContextRequest(mr, DicomPresentationContextRequest.UncompressedTransferSyntaxes),
        ]);
        var accepted = a.PresentationContexts.Where(pc => pc.IsAccepted).Select(pc => pc.AbstractSyntax).ToHashSet();
        Assert.Contains(QueryRetrieveInformationModel.StudyRoot.GetSopClassUid, accepted);
        Assert.Contains(ct, accepted);
        Assert.DoesNotContain(mr, accepted);
    }

    private sealed class OnlyGet(IGetHandler get) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(IGetHandler) ? get : null;
    }

    /// <summary>Where the data set starts in a Part 10 file (after preamble, DICM and the meta group).</summary>
    private static int FileDatasetOffset(string path) => FileDatasetOffset(File.ReadAllBytes(path));

    private static int FileDatasetOffset(byte[] part10)
    {
        // 128 + "DICM" + (0002,0000) UL element of 12 bytes whose value is the rest of the meta group's length.
        int groupLength = BitConverter.ToInt32(part10, 132 + 8);
        return 132 + 12 + groupLength;
    }
}
