using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Microsoft.Extensions.Logging;

namespace Kaapana.Tests.Dicom.Network;

/// <summary>A hand-driven peer on a raw socket, to send what no real implementation would.</summary>
public sealed class RawPeer : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private RawPeer(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawPeer> ConnectAsync(int port)
    {
        var c = new TcpClient { NoDelay = true };
        await c.ConnectAsync(IPAddress.Loopback, port);
        return new RawPeer(c);
    }

    public async Task SendAsync(byte[] bytes)
    {
        try
        {
            await _stream.WriteAsync(bytes);
        }
        catch (IOException)
        {
            // The server may already have closed (e.g. after refusing a 4 GB header): that is its right.
        }
    }

    public void ShutdownSend() => _client.Client.Shutdown(SocketShutdown.Send);

    /// <summary>The next PDU, or null when the server closed the connection. Fails after <paramref name="timeoutMs"/>.</summary>
    public async Task<DicomPdu?> ReadPduAsync(int timeoutMs = 10_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        var header = new byte[6];
        if (!await ReadExactAsync(header, cts.Token)) return null;
        var len = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2));
        var body = new byte[len];
        if (!await ReadExactAsync(body, cts.Token)) throw new IOException("Server closed inside a PDU");
        return PduCodec.DecodeBody(header[0], body);
    }

    /// <summary>True once the server has closed its side (EOF or reset), reading and discarding anything before that.</summary>
    public async Task<bool> WaitClosedAsync(int timeoutMs = 10_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        var buf = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buf, cts.Token) > 0) { }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> ReadExactAsync(byte[] buffer, CancellationToken ct)
    {
        int got = 0;
        try
        {
            while (got < buffer.Length)
            {
                int n = await _stream.ReadAsync(buffer.AsMemory(got), ct);
                if (n == 0) return false;
                got += n;
            }
        }
        catch (IOException)
        {
            return false;
        }
        return true;
    }

    /// <summary>A-ASSOCIATE-RQ for Verification (and CT storage), as a DCMTK SCU would send it.</summary>
    public static AssociateRequestPdu Request(string called = "KAAPANA", string calling = "RAWPEER")
    {
        var rq = new AssociateRequestPdu { CalledAE = called, CallingAE = calling };
        rq.PresentationContexts.Add(new DicomPresentationContextProposal(1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian]));
        rq.PresentationContexts.Add(new DicomPresentationContextProposal(3, DicomUids.CTImageStorage, [DicomUids.ExplicitVRLittleEndian]));
        rq.UserInformation.MaxPduLength = 16384;
        rq.UserInformation.ImplementationClassUid = "1.2.3.4";
        return rq;
    }

    /// <summary>Associates; returns the A-ASSOCIATE-AC.</summary>
    public async Task<AssociateAcceptPdu> AssociateAsync()
    {
        await SendAsync(PduCodec.Encode(Request()));
        return Assert.IsType<AssociateAcceptPdu>(await ReadPduAsync());
    }

    public static byte[] PData(params (byte PcId, byte Header, byte[] Data)[] pdvs)
    {
        var pdu = new DataTransferPdu();
        foreach (var (pc, h, d) in pdvs) pdu.Values.Add(new DicomPresentationDataValue(pc, (h & 1) != 0, (h & 2) != 0, d));
        return PduCodec.Encode(pdu);
    }

    public static byte[] EchoCommand(ushort messageId = 1)
    {
        var c = DimseCommand.CreateEchoRequest();
        c.Set<ushort>(DicomTags.MessageID, DicomVR.US, messageId);
        return DimseCommand.Encode(c);
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }
}

/// <summary>
/// Malformed and hostile peers on raw sockets. For each: the server aborts (or closes) that connection, logs one clear line,
/// keeps serving (echoscu succeeds right after) and leaks nothing (no connection left open).
/// </summary>
public class RobustnessTests
{
    /// <summary>
    /// Short timers only where a test waits for them to fire; elsewhere the defaults, so a busy test machine (2 cores, other
    /// test classes in parallel) can never make a timer fire where none is expected.
    /// </summary>
    private static Task<TestServer> StartAsync(int artimMs = 30_000, int idleMs = 300_000) => TestServer.StartAsync(o =>
    {
        o.ArtimTimeout = TimeSpan.FromMilliseconds(artimMs);
        o.IdleTimeout = TimeSpan.FromMilliseconds(idleMs);
    });

    /// <summary>Runs one hostile case, then checks: connections gone, one warning line, echoscu still served.</summary>
    private static async Task CaseAsync(TestServer s, Func<RawPeer, Task> attack, string expectInLog)
    {
        int before = s.Logs.Entries.Count;
        await using (var peer = await RawPeer.ConnectAsync(s.Port))
            await attack(peer);
        await s.AssertNoConnectionsAsync();
        var warnings = s.Logs.Entries.Skip(before).Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.True(warnings.Count == 1, $"expected one warning line, got:\n{string.Join("\n", warnings)}");
        Assert.Contains(expectInLog, warnings[0], StringComparison.OrdinalIgnoreCase);

        var echo = await Dcmtk.RunAsync("echoscu", ["-aec", "KAAPANA", "127.0.0.1", s.Port.ToString()]);
        Assert.True(echo.ExitCode == 0, $"echoscu after the case failed: {echo.Output}");
        await s.AssertNoConnectionsAsync();
    }

    private static async Task ExpectAbortAsync(RawPeer peer, DicomAbortReason reason)
    {
        var pdu = await peer.ReadPduAsync();
        var abort = Assert.IsType<AbortPdu>(pdu);
        Assert.Equal(DicomAbortSource.ServiceProvider, abort.Source);
        Assert.Equal(reason, abort.Reason);
        Assert.True(await peer.WaitClosedAsync(), "server did not close after A-ABORT");
    }

    [Fact]
    public async Task Item_length_running_past_the_pdu_is_aborted()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            var rq = PduCodec.Encode(RawPeer.Request());
            int pos = 6 + 68;
            while (rq[pos] != 0x20) pos += 4 + BinaryPrimitives.ReadUInt16BigEndian(rq.AsSpan(pos + 2));
            BinaryPrimitives.WriteUInt16BigEndian(rq.AsSpan(pos + 2), 60000);
            await peer.SendAsync(rq);
            await ExpectAbortAsync(peer, DicomAbortReason.InvalidPduParameterValue);
        }, "protocol error");
    }

    [Fact]
    public async Task Unknown_pdu_type_is_aborted()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            await peer.SendAsync([0x0A, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
            await ExpectAbortAsync(peer, DicomAbortReason.UnrecognizedPdu);
        }, "unrecognized PDU type 0x0A");
    }

    [Fact]
    public async Task Four_gigabyte_pdu_length_is_aborted_without_reading_it()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            await peer.SendAsync([0x01, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 1, 0, 0]);
            await ExpectAbortAsync(peer, DicomAbortReason.InvalidPduParameterValue);
        }, "exceeds the limit");
    }

    [Fact]
    public async Task Pdu_above_the_incoming_limit_after_association_is_aborted()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            await peer.AssociateAsync();
            await peer.SendAsync([0x04, 0, 0x7F, 0xFF, 0xFF, 0xFF]);
            await ExpectAbortAsync(peer, DicomAbortReason.InvalidPduParameterValue);
        }, "exceeds the limit");
    }

    [Fact]
    public async Task Truncated_request_then_close_is_cleaned_up()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            var rq = PduCodec.Encode(RawPeer.Request());
            await peer.SendAsync(rq.AsSpan(0, rq.Length / 2).ToArray());
            peer.ShutdownSend();
            Assert.True(await peer.WaitClosedAsync());
        }, "connection lost before A-ASSOCIATE-RQ");
    }

    [Fact]
    public async Task Garbage_after_association_is_aborted()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            var ac = await peer.AssociateAsync();
            Assert.Equal(DicomPresentationContextResult.Acceptance, ac.PresentationContexts[0].Result);
            await peer.SendAsync("GARBAGE GARBAGE GARBAGE"u8.ToArray());
            await ExpectAbortAsync(peer, DicomAbortReason.UnrecognizedPdu);
        }, "unrecognized PDU type 0x47");
    }

    [Fact]
    public async Task Peer_that_connects_and_stalls_is_closed_by_artim()
    {
        await using var s = await StartAsync(artimMs: 500);
        await CaseAsync(s, async peer =>
        {
            // No A-ABORT before an association exists (AA-2): the server just closes.
            Assert.Null(await peer.ReadPduAsync(timeoutMs: 15_000));
        }, "ARTIM expired");
    }

    [Fact]
    public async Task Peer_that_stalls_inside_its_request_is_closed_by_artim()
    {
        await using var s = await StartAsync(artimMs: 500);
        await CaseAsync(s, async peer =>
        {
            var rq = PduCodec.Encode(RawPeer.Request());
            await peer.SendAsync(rq.AsSpan(0, 20).ToArray());
            Assert.True(await peer.WaitClosedAsync(15_000));
        }, "ARTIM expired");
    }

    [Fact]
    public async Task Data_before_association_is_an_unexpected_pdu()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            await peer.SendAsync(RawPeer.PData((1, 3, RawPeer.EchoCommand())));
            await ExpectAbortAsync(peer, DicomAbortReason.UnexpectedPdu);
        }, "unexpected DataTransfer PDU");
    }

    [Fact]
    public async Task Pdv_on_a_rejected_or_unknown_context_is_aborted()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            await peer.AssociateAsync();
            await peer.SendAsync(RawPeer.PData((7, 3, RawPeer.EchoCommand())));
            await ExpectAbortAsync(peer, DicomAbortReason.InvalidPduParameterValue);
        }, "presentation context 7");
    }

    [Fact]
    public async Task Data_set_fragment_without_a_command_is_aborted()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            await peer.AssociateAsync();
            await peer.SendAsync(RawPeer.PData((1, 2, [1, 2, 3, 4])));
            await ExpectAbortAsync(peer, DicomAbortReason.UnexpectedPduParameter);
        }, "without a command");
    }

    [Fact]
    public async Task Malformed_command_set_is_aborted()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            await peer.AssociateAsync();
            await peer.SendAsync(RawPeer.PData((1, 3, [0, 0, 0, 1, 2, 0, 0, 0, 0x30])));
            await ExpectAbortAsync(peer, DicomAbortReason.InvalidPduParameterValue);
        }, "command");
    }

    [Fact]
    public async Task Release_in_the_middle_of_a_message_is_aborted()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            await peer.AssociateAsync();
            var cmd = RawPeer.EchoCommand();
            await peer.SendAsync(RawPeer.PData((1, 1, cmd[..10]))); // first command fragment, not last
            await peer.SendAsync(PduCodec.Encode(new ReleaseRequestPdu()));
            await ExpectAbortAsync(peer, DicomAbortReason.UnexpectedPdu);
        }, "A-RELEASE-RQ in the middle");
    }

    [Fact]
    public async Task Peer_abort_is_logged_once()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            await peer.AssociateAsync();
            await peer.SendAsync(PduCodec.Encode(new AbortPdu(DicomAbortSource.ServiceUser, DicomAbortReason.NotSpecified)));
            Assert.True(await peer.WaitClosedAsync());
        }, "aborted by the peer");
    }

    [Fact]
    public async Task Peer_closing_without_release_is_logged_once()
    {
        await using var s = await StartAsync();
        await CaseAsync(s, async peer =>
        {
            await peer.AssociateAsync();
            peer.ShutdownSend();
            Assert.True(await peer.WaitClosedAsync());
        }, "closed by the peer without A-RELEASE");
    }

    [Fact]
    public async Task Idle_association_is_aborted()
    {
        await using var s = await StartAsync(idleMs: 700);
        await CaseAsync(s, async peer =>
        {
            await peer.AssociateAsync();
            var abort = Assert.IsType<AbortPdu>(await peer.ReadPduAsync(timeoutMs: 15_000));
            Assert.Equal(DicomAbortSource.ServiceUser, abort.Source);
            Assert.True(await peer.WaitClosedAsync());
        }, "idle for");
    }

    /// <summary>
    /// Random bytes, before and after association, in random amounts (some connections closed at once, some half-closed):
    /// no internal error, nothing left open, and the server still answers.
    /// </summary>
    [Fact]
    public async Task Random_garbage_never_breaks_the_server()
    {
        await using var s = await StartAsync();
        var rng = new Random(20261127);
        var peers = Enumerable.Range(0, 40).Select(async i =>
        {
            byte[] garbage = new byte[rng.Next(1, 3000)];
            lock (rng) rng.NextBytes(garbage);
            await using var peer = await RawPeer.ConnectAsync(s.Port);
            if (i % 2 == 1) await peer.AssociateAsync();
            if (i % 3 == 0) garbage[0] = 0x04; // looks like P-DATA with a random length
            await peer.SendAsync(garbage);
            if (i % 4 == 0) peer.ShutdownSend();
            if (i % 5 != 0) await peer.WaitClosedAsync(15_000);
        });
        await Task.WhenAll(peers);
        await s.AssertNoConnectionsAsync();
        Assert.Empty(s.Logs.Lines(LogLevel.Error));
        var echo = await Dcmtk.RunAsync("echoscu", ["-aec", "KAAPANA", "127.0.0.1", s.Port.ToString()]);
        Assert.True(echo.ExitCode == 0, echo.Output);
    }

    /// <summary>A well-behaved raw exchange: echo over a fragmented command, then release; nothing logged as a warning.</summary>
    [Fact]
    public async Task Fragmented_command_is_reassembled_and_release_is_clean()
    {
        await using var s = await StartAsync();
        await using (var peer = await RawPeer.ConnectAsync(s.Port))
        {
            await peer.AssociateAsync();
            var cmd = RawPeer.EchoCommand(7);
            // Three fragments, the first two in one PDU.
            await peer.SendAsync(RawPeer.PData((1, 1, cmd[..5]), (1, 1, cmd[5..20])));
            await peer.SendAsync(RawPeer.PData((1, 3, cmd[20..])));
            var rsp = Assert.IsType<DataTransferPdu>(await peer.ReadPduAsync());
            var pdv = Assert.Single(rsp.Values);
            Assert.True(pdv.IsCommand && pdv.IsLastFragment);
            var msg = new DimseMessage(pdv.PresentationContextId, DimseCommand.Decode(pdv.Data.Span));
            Assert.Equal(DimseCommandField.CEchoResponse, msg.CommandField);
            Assert.Equal(7, msg.MessageIdBeingRespondedTo);
            Assert.True(msg.Status.IsSuccess);
            await peer.SendAsync(PduCodec.Encode(new ReleaseRequestPdu()));
            Assert.IsType<ReleaseResponsePdu>(await peer.ReadPduAsync());
            Assert.True(await peer.WaitClosedAsync());
        }
        await s.AssertNoConnectionsAsync();
        Assert.Empty(s.Logs.Lines(LogLevel.Warning));
    }

    /// <summary>Release collision seen from our requestor: the peer answers our A-RELEASE-RQ with its own (PS3.8 Sta9/Sta11).</summary>
    [Fact]
    public async Task Release_collision_on_the_requestor_side()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var peerTask = Task.Run(async () =>
        {
            using var sock = await listener.AcceptTcpClientAsync();
            var stream = sock.GetStream();
            async Task<(byte Type, byte[] Body)> Read()
            {
                var h = new byte[6];
                await stream.ReadExactlyAsync(h);
                var b = new byte[BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(2))];
                await stream.ReadExactlyAsync(b);
                return (h[0], b);
            }
            var (t, body) = await Read();
            var rq = (AssociateRequestPdu)PduCodec.DecodeBody(t, body);
            var ac = new AssociateAcceptPdu { CalledAE = rq.CalledAE, CallingAE = rq.CallingAE };
            ac.PresentationContexts.Add(new DicomPresentationContextResponse(1, DicomPresentationContextResult.Acceptance, DicomUids.ImplicitVRLittleEndian));
            await stream.WriteAsync(PduCodec.Encode(ac));
            Assert.Equal((byte)DicomPduType.ReleaseRequest, (await Read()).Type);
            await stream.WriteAsync(PduCodec.Encode(new ReleaseRequestPdu())); // collision
            Assert.Equal((byte)DicomPduType.ReleaseResponse, (await Read()).Type); // requestor answers first (AR-9)
            await stream.WriteAsync(PduCodec.Encode(new ReleaseResponsePdu()));
            var rest = new byte[16];
            return await stream.ReadAsync(rest); // 0: the requestor closed (AR-3)
        });
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = port, CalledAE = "PEER" });
        var a = await client.ConnectAsync([new DicomPresentationContextRequest(DicomUids.Verification, DicomTransferSyntax.ImplicitVRLittleEndian)]);
        await a.ReleaseAsync();
        Assert.Equal(DicomAssociationState.Closed, a.State);
        Assert.Equal(0, await peerTask.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    /// <summary>Release collision on the acceptor side: our server releases while the requestor does too (Sta10/Sta12).</summary>
    [Fact]
    public async Task Release_collision_on_the_acceptor_side()
    {
        await using var s = await StartAsync();
        var peer = await RawPeer.ConnectAsync(s.Port);
        await peer.AssociateAsync();
        var serverSide = s.Server.Associations.Single();
        var release = serverSide.ReleaseAsync(); // server sends A-RELEASE-RQ (Sta7)
        Assert.IsType<ReleaseRequestPdu>(await peer.ReadPduAsync());
        await peer.SendAsync(PduCodec.Encode(new ReleaseRequestPdu())); // collision: server goes to Sta10
        await peer.SendAsync(PduCodec.Encode(new ReleaseResponsePdu())); // requestor answers first
        Assert.IsType<ReleaseResponsePdu>(await peer.ReadPduAsync()); // then the acceptor (AR-4)
        Assert.True(await peer.WaitClosedAsync());
        await peer.DisposeAsync(); // the requestor closes the transport (the acceptor is in Sta13)
        await release.WaitAsync(TimeSpan.FromSeconds(20));
        await s.AssertNoConnectionsAsync();
        Assert.Empty(s.Logs.Lines(LogLevel.Warning));
    }
}
