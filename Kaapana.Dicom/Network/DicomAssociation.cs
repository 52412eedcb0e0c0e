using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Kaapana.Dicom.Network;

/// <summary>States of the upper layer state machine (PS3.8 9.2.1); the comment names the standard's state(s).</summary>
public enum DicomAssociationState
{
    /// <summary>Sta2: transport connection open, awaiting A-ASSOCIATE-RQ (acceptor; ARTIM running).</summary>
    AwaitingAssociateRequest,
    /// <summary>Sta5: A-ASSOCIATE-RQ sent, awaiting A-ASSOCIATE-AC/RJ (requestor).</summary>
    AwaitingAssociateResponse,
    /// <summary>Sta6: association established, ready for data transfer.</summary>
    Established,
    /// <summary>Sta7: A-RELEASE-RQ sent, awaiting A-RELEASE-RP.</summary>
    AwaitingReleaseResponse,
    /// <summary>Sta8: A-RELEASE-RQ received; finishing operations before sending A-RELEASE-RP.</summary>
    AwaitingLocalReleaseResponse,
    /// <summary>Sta9/Sta11: release collision on the requestor side (A-RELEASE-RP sent, awaiting the peer's).</summary>
    ReleaseCollisionRequestor,
    /// <summary>Sta10/Sta12: release collision on the acceptor side (awaiting the peer's A-RELEASE-RP, then sending ours).</summary>
    ReleaseCollisionAcceptor,
    /// <summary>Sta13: awaiting transport close after A-RELEASE-RP, A-ASSOCIATE-RJ or A-ABORT was sent (ARTIM running).</summary>
    AwaitingTransportClose,
    /// <summary>Sta1: transport closed.</summary>
    Closed,
}

/// <summary>Timeouts and limits of one association (set from <see cref="DicomServerOptions"/> or <see cref="DicomClientOptions"/>).</summary>
internal sealed record DicomAssociationSettings
{
    /// <summary>Maximum P-DATA-TF length we announce (0 = unlimited).</summary>
    public uint MaxPduLength { get; init; } = 256 * 1024;

    /// <summary>Hard limit for any incoming PDU, above the announced one (peers exceed it now and then).</summary>
    public uint MaxIncomingPduLength { get; init; } = 16 * 1024 * 1024;

    /// <summary>Our largest outgoing P-DATA-TF when the peer announces no limit.</summary>
    public int MaxSendPduLength { get; init; } = 1024 * 1024;

    /// <summary>ARTIM (PS3.8 9.1.5): awaiting A-ASSOCIATE-RQ after connect, awaiting close in Sta13; also our A-ASSOCIATE-AC wait.</summary>
    public TimeSpan ArtimTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Abort an established association after this long without any PDU while no operation is running.</summary>
    public TimeSpan IdleTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    public TimeSpan ReleaseTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for the next response to a request we sent.</summary>
    public TimeSpan ResponseTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>Longest wait for running operations when the association ends.</summary>
    public TimeSpan OperationDrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public int MaxCommandLength { get; init; } = 1024 * 1024;
    public long MaxResponseDataSetLength { get; init; } = 64 * 1024 * 1024;

    /// <summary>Acceptor side: the read loop gets a thread of its own and blocking socket I/O (<see cref="DicomServerOptions.ThreadPerAssociation"/>).</summary>
    public bool ThreadPerAssociation { get; init; }
}

/// <summary>
/// One DICOM association, requestor or acceptor side: the PS3.8 state machine, PDU I/O, message assembly and
/// fragmentation, and the DIMSE primitives (send a request and read its responses; serve incoming requests through
/// the <see cref="DimseServiceRegistry"/>). Created by <see cref="DicomServer"/> or <see cref="DicomClient"/>.
/// <para>
/// One read loop per association owns the receiving side and the ending: every end (release, abort either way, transport
/// failure, timeout) passes through it, so each association logs exactly one closing line, fails outstanding requests,
/// cancels running operations and completes <see cref="Completion"/>.
/// </para>
/// </summary>
public sealed partial class DicomAssociation : IAsyncDisposable
{
    private static long s_nextId;

    private readonly Socket _socket;
    private readonly Stream _stream; // NetworkStream, or BlockingSocketStream with a ReadLoopThread
    private readonly PduReader _reader;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly DicomAssociationSettings _settings;
    private readonly DimseServiceRegistry _registry;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<ushort, PendingRequest> _pending = new();
    private readonly ConcurrentDictionary<long, IncomingOperation> _operations = new();

    private DicomAssociationState _state;
    private TimerPurpose _timerPurpose;
    private long _lastActivity;
    private int _nextMessageId;
    private long _nextOperationKey;
    private int _operationCount;
    private IReadOnlyDictionary<byte, DicomPresentationContext> _contexts = new Dictionary<byte, DicomPresentationContext>();
    private Func<AssociateRequestPdu, DicomAssociation, CancellationToken, ValueTask<DicomPdu>>? _negotiate;
    private Task? _releaseTask;
    private string? _endReason;
    private LogLevel _endLevel = LogLevel.Information;
    private Exception? _endException;
    private bool _released;

    private enum TimerPurpose { None, Artim, Idle, Release }

    internal DicomAssociation(Socket socket, bool isRequestor, DicomAssociationSettings settings, DimseServiceRegistry registry,
        IServiceProvider services, ILogger logger, TimeProvider time)
    {
        socket.NoDelay = true;
        _socket = socket;
        _stream = !isRequestor && settings.ThreadPerAssociation ? new BlockingSocketStream(socket) : new NetworkStream(socket, ownsSocket: true);
        _reader = new PduReader(_stream, Math.Max(settings.MaxIncomingPduLength, settings.MaxPduLength));
        _settings = settings;
        _registry = registry;
        Services = services;
        _log = logger;
        _time = time;
        _timer = time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _lastActivity = time.GetTimestamp();
        // Only ConnectAsync awaits this; a failure on the acceptor side must not surface as an unobserved task exception.
        _established.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Id = Interlocked.Increment(ref s_nextId);
        IsRequestor = isRequestor;
        _state = isRequestor ? DicomAssociationState.AwaitingAssociateResponse : DicomAssociationState.AwaitingAssociateRequest;
        try
        {
            RemoteEndPoint = socket.RemoteEndPoint;
            LocalEndPoint = socket.LocalEndPoint;
        }
        catch (SocketException)
        {
            // Already reset by the peer: the read loop will notice.
        }
    }

    // ------------------------------------------------------------------ public surface

    /// <summary>Process-wide sequence number, used in log lines.</summary>
    public long Id { get; }

    /// <summary>True on the side that sent A-ASSOCIATE-RQ.</summary>
    public bool IsRequestor { get; }

    public DicomAssociationState State { get { lock (_gate) return _state; } }

    /// <summary>Messages can be sent (Sta6, or Sta8 while finishing operations before A-RELEASE-RP).</summary>
    public bool IsOpen => State is DicomAssociationState.Established or DicomAssociationState.AwaitingLocalReleaseResponse;

    public string CallingAE { get; private set; } = "";
    public string CalledAE { get; private set; } = "";
    public EndPoint? RemoteEndPoint { get; }
    public EndPoint? LocalEndPoint { get; }

    /// <summary>The A-ASSOCIATE-RQ (sent or received).</summary>
    public AssociateRequestPdu? RequestPdu { get; private set; }

    /// <summary>The A-ASSOCIATE-AC (sent or received), once established.</summary>
    public AssociateAcceptPdu? AcceptPdu { get; private set; }

    /// <summary>Every proposed context with its result, once established.</summary>
    public IReadOnlyCollection<DicomPresentationContext> PresentationContexts => _contexts.Values.ToList();

    /// <summary>The peer's maximum P-DATA-TF length (0 = unlimited); outgoing messages are fragmented to it.</summary>
    public uint PeerMaxPduLength { get; private set; }

    public string? PeerImplementationClassUid => (IsRequestor ? AcceptPdu?.UserInformation : RequestPdu?.UserInformation)?.ImplementationClassUid;
    public string? PeerImplementationVersionName => (IsRequestor ? AcceptPdu?.UserInformation : RequestPdu?.UserInformation)?.ImplementationVersionName;

    /// <summary>The services incoming requests are resolved from (the acceptor's per-association scope).</summary>
    public IServiceProvider Services { get; internal set; }

    /// <summary>Incoming requests being served right now.</summary>
    public int ActiveOperations => Volatile.Read(ref _operationCount);

    /// <summary>Completes when the transport is closed, however the association ended. Never faults.</summary>
    public Task Completion => _closed.Task;

    /// <summary>Cancelled as soon as the association starts ending (abort, release complete, connection lost).</summary>
    public CancellationToken Closing => _lifetime.Token;

    /// <summary>Why the association ended (null while it is open).</summary>
    public string? EndReason { get { lock (_gate) return _endReason; } }

    public DicomPresentationContext? GetPresentationContext(byte id) => _contexts.GetValueOrDefault(id);

    /// <summary>
    /// An accepted context for <paramref name="abstractSyntax"/> (and <paramref name="transferSyntax"/>, if given) on which this
    /// side may send requests: as requestor the SCU role, as acceptor the SCP role granted to the requestor (C-GET sub-operations).
    /// </summary>
    public DicomPresentationContext? FindContextForRequest(string abstractSyntax, string? transferSyntax = null) =>
        _contexts.Values.Where(pc => pc.IsAccepted && pc.AbstractSyntax == abstractSyntax && CanInvoke(pc)
                                     && (transferSyntax is null || pc.TransferSyntax!.Uid == transferSyntax))
            .OrderBy(pc => pc.Id).FirstOrDefault();

    private bool CanInvoke(DicomPresentationContext pc) => IsRequestor ? pc.RequestorIsScu : pc.RequestorIsScp;

    public override string ToString() => $"#{Id} {RemoteEndPoint} {CallingAE}->{CalledAE} {State}";

    // ------------------------------------------------------------------ establishment

    /// <summary>Acceptor side: runs the connection from the first byte to close. Never throws.</summary>
    internal Task RunAcceptorAsync(Func<AssociateRequestPdu, DicomAssociation, CancellationToken, ValueTask<DicomPdu>> negotiate)
    {
        _negotiate = negotiate;
        ArmTimer(TimerPurpose.Artim, _settings.ArtimTimeout);
        return RunAsync();
    }

    /// <summary>Requestor side: connects, sends A-ASSOCIATE-RQ and waits for the answer.</summary>
    internal static async Task<DicomAssociation> ConnectAsync(string host, int port, AssociateRequestPdu request, TimeSpan connectTimeout,
        DicomAssociationSettings settings, DimseServiceRegistry registry, IServiceProvider services, ILogger logger, TimeProvider time,
        CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (connectTimeout != Timeout.InfiniteTimeSpan) cts.CancelAfter(connectTimeout);
            await socket.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new DicomNetworkException($"Could not connect to {host}:{port} within {connectTimeout.TotalSeconds:0.#} s.");
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new DicomNetworkException($"Could not connect to {host}:{port}: {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var a = new DicomAssociation(socket, isRequestor: true, settings, registry, services, logger, time)
        {
            RequestPdu = request,
            CallingAE = request.CallingAE,
            CalledAE = request.CalledAE,
        };
        a.ArmTimer(TimerPurpose.Artim, settings.ArtimTimeout);
        var run = a.RunAsync();
        try
        {
            await a.SendPduAsync(PduCodec.Encode(request), ct).ConfigureAwait(false);
            using (ct.Register(static s => _ = ((DicomAssociation)s!).AbortAsync(), a))
                await a._established.Task.ConfigureAwait(false);
            return a;
        }
        catch (Exception ex)
        {
            if (ex is not DicomAssociationRejectedException)
                await a.AbortInternalAsync(DicomAbortSource.ServiceUser, DicomAbortReason.NotSpecified, $"association setup failed: {ex.Message}", LogLevel.Warning).ConfigureAwait(false);
            await run.ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            if (ex is DicomException) throw;
            throw new DicomAssociationAbortedException($"Association setup failed: {ex.Message}", inner: ex);
        }
    }

    private async ValueTask OnAssociateRequestAsync(AssociateRequestPdu rq)
    {
        DisarmTimer();
        RequestPdu = rq;
        CallingAE = Printable(rq.CallingAE);
        CalledAE = Printable(rq.CalledAE);
        DicomPdu reply;
        try
        {
            reply = await _negotiate!(rq, this, _lifetime.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // E.g. a handler whose constructor throws when negotiation asks which services are available.
            _log.LogError(ex, "Association #{Id} {Remote} {Calling}->{Called}: negotiation failed", Id, RemoteEndPoint, CallingAE, CalledAE);
            reply = new AssociateRejectPdu(DicomRejectResult.Transient, DicomRejectSource.ServiceUser, DicomRejectReason.NoReasonGiven);
        }
        if (reply is AssociateRejectPdu rj)
        {
            await SendPduAsync(PduCodec.Encode(rj), _lifetime.Token).ConfigureAwait(false);
            SetEnd(rj.Result == DicomRejectResult.Transient ? LogLevel.Information : LogLevel.Warning, $"rejected: {rj}");
            EnterAwaitingClose();
            return;
        }
        var ac = (AssociateAcceptPdu)reply;
        _contexts = BuildContexts(rq, ac);
        AcceptPdu = ac;
        PeerMaxPduLength = rq.UserInformation.MaxPduLength ?? 0;
        // AE-7: send A-ASSOCIATE-AC, next state Sta6. The state changes under the send lock, before the write, so no one can
        // see the association established before the AC is on its way, nor squeeze a PDU in before it.
        var acBytes = PduCodec.Encode(ac);
        await _sendLock.WaitAsync(_lifetime.Token).ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                if (_state != DicomAssociationState.AwaitingAssociateRequest) return;
                _state = DicomAssociationState.Established;
            }
            await _stream.WriteAsync(acBytes, _lifetime.Token).ConfigureAwait(false);
            Touch();
        }
        finally
        {
            _sendLock.Release();
        }
        _established.TrySetResult();
        LogEstablished();
        ArmTimer(TimerPurpose.Idle, _settings.IdleTimeout);
    }

    private void OnAssociateAccept(AssociateAcceptPdu ac)
    {
        var rq = RequestPdu!;
        foreach (var r in ac.PresentationContexts)
        {
            var proposed = rq.PresentationContexts.FirstOrDefault(p => p.Id == r.Id)
                ?? throw new DicomProtocolException($"A-ASSOCIATE-AC answers presentation context {r.Id}, which was not proposed", DicomAbortReason.InvalidPduParameterValue);
            if (r.Result == DicomPresentationContextResult.Acceptance && !proposed.TransferSyntaxes.Contains(r.TransferSyntax))
                throw new DicomProtocolException($"A-ASSOCIATE-AC accepts context {r.Id} with transfer syntax {r.TransferSyntax}, which was not proposed", DicomAbortReason.InvalidPduParameterValue);
        }
        _contexts = BuildContexts(rq, ac);
        AcceptPdu = ac;
        PeerMaxPduLength = ac.UserInformation.MaxPduLength ?? 0;
        lock (_gate)
        {
            if (_state != DicomAssociationState.AwaitingAssociateResponse) return;
            _state = DicomAssociationState.Established;
        }
        DisarmTimer();
        _established.TrySetResult();
        LogEstablished();
        ArmTimer(TimerPurpose.Idle, _settings.IdleTimeout);
    }

    /// <summary>Negotiated contexts: results from the AC, roles from its role selection items (defaults: requestor SCU only).</summary>
    internal static Dictionary<byte, DicomPresentationContext> BuildContexts(AssociateRequestPdu rq, AssociateAcceptPdu ac)
    {
        var result = new Dictionary<byte, DicomPresentationContext>();
        foreach (var p in rq.PresentationContexts)
        {
            if (result.ContainsKey(p.Id)) continue;
            var r = ac.PresentationContexts.FirstOrDefault(x => x.Id == p.Id);
            var res = r?.Result ?? DicomPresentationContextResult.ProviderRejection;
            var ts = res == DicomPresentationContextResult.Acceptance && r!.TransferSyntax.Length > 0 ? DicomTransferSyntax.Lookup(r.TransferSyntax) : null;
            var pc = new DicomPresentationContext(p.Id, p.AbstractSyntax, p.TransferSyntaxes, res, ts);
            var role = ac.UserInformation.RoleSelections.FirstOrDefault(x => x.SopClassUid == p.AbstractSyntax);
            if (role != null && rq.UserInformation.RoleSelections.Any(x => x.SopClassUid == p.AbstractSyntax))
            {
                pc.RequestorIsScu = role.ScuRole;
                pc.RequestorIsScp = role.ScpRole;
            }
            result[p.Id] = pc;
        }
        return result;
    }

    /// <summary>AE titles come from the peer and end up in log lines: control characters (invalid in AE anyway) become '?'.</summary>
    private static string Printable(string ae) => ae.Any(char.IsControl) ? new string(ae.Select(c => char.IsControl(c) ? '?' : c).ToArray()) : ae;

    private void LogEstablished()
    {
        if (!_log.IsEnabled(LogLevel.Information)) return;
        var accepted = _contexts.Values.Count(c => c.IsAccepted);
        _log.LogInformation("Association #{Id} {Remote} {Calling}->{Called} established ({Accepted} of {Proposed} presentation contexts accepted, peer max PDU {MaxPdu}, peer implementation {Impl} {Version})",
            Id, RemoteEndPoint, CallingAE, CalledAE, accepted, _contexts.Count, PeerMaxPduLength, PeerImplementationClassUid, PeerImplementationVersionName);
    }

    // ------------------------------------------------------------------ release and abort

    /// <summary>
    /// Sends A-RELEASE-RQ and waits for A-RELEASE-RP (handling a release collision), then closes. Returns at once when the
    /// association is already closed; throws <see cref="DicomAssociationAbortedException"/> if it ends otherwise.
    /// </summary>
    public async Task ReleaseAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_state == DicomAssociationState.Closed && _released) return;
            if (_state != DicomAssociationState.Established)
                throw new DicomNetworkException($"Cannot release association #{Id} in state {_state}.");
            _state = DicomAssociationState.AwaitingReleaseResponse;
        }
        try
        {
            await SendPduAsync(PduCodec.Encode(new ReleaseRequestPdu()), ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The read loop has seen or will see the transport failure.
            _log.LogDebug(ex, "Association #{Id}: sending A-RELEASE-RQ failed", Id);
        }
        ArmTimer(TimerPurpose.Release, _settings.ReleaseTimeout);
        await Completion.WaitAsync(ct).ConfigureAwait(false);
        if (!_released) throw new DicomAssociationAbortedException($"Association #{Id} ended during release: {EndReason}", inner: _endException);
    }

    /// <summary>Sends A-ABORT (service user) and closes. Safe to call in any state and more than once.</summary>
    public async Task AbortAsync()
    {
        await AbortInternalAsync(DicomAbortSource.ServiceUser, DicomAbortReason.NotSpecified, "aborted locally", LogLevel.Information).ConfigureAwait(false);
        await Completion.ConfigureAwait(false);
    }

    /// <summary>Aborts with a reason for the log line (e.g. server shutdown).</summary>
    internal async Task AbortAsync(string reason, LogLevel level)
    {
        await AbortInternalAsync(DicomAbortSource.ServiceUser, DicomAbortReason.NotSpecified, reason, level).ConfigureAwait(false);
        await Completion.ConfigureAwait(false);
    }

    /// <summary>Requestor: releases if established (aborting if that fails). Acceptor: aborts if still open.</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsRequestor && State == DicomAssociationState.Established)
        {
            try
            {
                await ReleaseAsync().ConfigureAwait(false);
            }
            catch (DicomException)
            {
                // Already logged; the association is closed either way.
            }
        }
        if (State != DicomAssociationState.Closed) await AbortAsync().ConfigureAwait(false);
        await Completion.ConfigureAwait(false);
    }

    private async Task AbortInternalAsync(DicomAbortSource source, DicomAbortReason reason, string message, LogLevel level, Exception? ex = null)
    {
        lock (_gate)
        {
            if (_state is DicomAssociationState.Closed or DicomAssociationState.AwaitingTransportClose) return;
            _state = DicomAssociationState.AwaitingTransportClose;
        }
        SetEnd(level, message, ex);
        _lifetime.Cancel();
        await TrySendUnlockedAsync(PduCodec.Encode(new AbortPdu(source, reason))).ConfigureAwait(false);
        EnterAwaitingClose();
    }

    /// <summary>Sends a PDU when the send lock comes free quickly; otherwise gives up (a stuck sender must not delay an abort).</summary>
    private async Task TrySendUnlockedAsync(byte[] pdu)
    {
        try
        {
            if (!await _sendLock.WaitAsync(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false)) return;
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                // A blocking write does not watch its token: a peer that reads nothing for 2 s gets the socket shut down instead.
                using var stuck = _stream is BlockingSocketStream ? cts.Token.UnsafeRegister(static s => ((DicomAssociation)s!).ShutdownQuietly(), this) : default;
                await _stream.WriteAsync(pdu, cts.Token).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _log.LogDebug(e, "Association #{Id}: could not send {Pdu}", Id, (DicomPduType)pdu[0]);
        }
    }

    /// <summary>Sta13: nothing more will be sent; wait (ARTIM) for the peer to close.</summary>
    private void EnterAwaitingClose()
    {
        lock (_gate)
        {
            if (_state == DicomAssociationState.Closed) return;
            _state = DicomAssociationState.AwaitingTransportClose;
        }
        _lifetime.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
        ArmTimer(TimerPurpose.Artim, _settings.ArtimTimeout);
    }

    private void ShutdownQuietly()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    private void CloseTransport()
    {
        lock (_gate)
        {
            _state = DicomAssociationState.Closed;
        }
        _lifetime.Cancel();
        _stream.Dispose(); // owns the socket
    }

    /// <summary>Records why the association ends; the first reason wins and is logged once when it closes.</summary>
    private void SetEnd(LogLevel level, string reason, Exception? ex = null)
    {
        lock (_gate)
        {
            if (_endReason != null) return;
            _endReason = reason;
            _endLevel = level;
            _endException = ex;
        }
    }

    // ------------------------------------------------------------------ timers

    private void ArmTimer(TimerPurpose purpose, TimeSpan due)
    {
        lock (_gate) _timerPurpose = due == Timeout.InfiniteTimeSpan ? TimerPurpose.None : purpose;
        try
        {
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile.
        }
    }

    private void DisarmTimer() => ArmTimer(TimerPurpose.None, Timeout.InfiniteTimeSpan);

    private void Touch() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());

    private void OnTimer()
    {
        TimerPurpose purpose;
        DicomAssociationState state;
        lock (_gate)
        {
            purpose = _timerPurpose;
            state = _state;
        }
        switch (purpose)
        {
            case TimerPurpose.Artim when state == DicomAssociationState.AwaitingAssociateRequest:
                SetEnd(LogLevel.Warning, $"ARTIM expired: no A-ASSOCIATE-RQ within {_settings.ArtimTimeout.TotalSeconds:0.###} s");
                CloseTransport(); // AA-2: no A-ABORT before association
                break;
            case TimerPurpose.Artim when state == DicomAssociationState.AwaitingTransportClose:
                CloseTransport();
                break;
            case TimerPurpose.Artim when state == DicomAssociationState.AwaitingAssociateResponse:
                _ = AbortInternalAsync(DicomAbortSource.ServiceUser, DicomAbortReason.NotSpecified,
                    $"no A-ASSOCIATE-AC/RJ within {_settings.ArtimTimeout.TotalSeconds:0.###} s", LogLevel.Warning);
                break;
            case TimerPurpose.Release when state is DicomAssociationState.AwaitingReleaseResponse
                or DicomAssociationState.ReleaseCollisionRequestor or DicomAssociationState.ReleaseCollisionAcceptor:
                _ = AbortInternalAsync(DicomAbortSource.ServiceUser, DicomAbortReason.NotSpecified,
                    $"no A-RELEASE-RP within {_settings.ReleaseTimeout.TotalSeconds:0.###} s", LogLevel.Warning);
                break;
            case TimerPurpose.Idle when state == DicomAssociationState.Established:
                {
                    var idle = _time.GetElapsedTime(Volatile.Read(ref _lastActivity));
                    if (idle < _settings.IdleTimeout) ArmTimer(TimerPurpose.Idle, _settings.IdleTimeout - idle);
                    else if (ActiveOperations > 0 || !_pending.IsEmpty) ArmTimer(TimerPurpose.Idle, _settings.IdleTimeout);
                    else
                        _ = AbortInternalAsync(DicomAbortSource.ServiceUser, DicomAbortReason.NotSpecified,
                            $"idle for {_settings.IdleTimeout.TotalSeconds:0.###} s", LogLevel.Warning);
                    break;
                }
        }
    }

    // ------------------------------------------------------------------ the read loop

    private async Task RunAsync()
    {
        try
        {
            if (_stream is BlockingSocketStream) await ReadLoopThread.RunAsync(ReadUntilClosedAsync, $"DICOM assoc {Id}").ConfigureAwait(false);
            else await ReadUntilClosedAsync(null).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            SetEnd(LogLevel.Error, $"internal error: {ex.Message}", ex);
        }
        CloseTransport();
        await FinishAsync().ConfigureAwait(false);
    }

    private async Task ReadUntilClosedAsync(ReadLoopThread? thread)
    {
        await ReadLoopAsync(thread).ConfigureAwait(false);
        if (State != DicomAssociationState.AwaitingTransportClose) return;
        if (thread is not null) await thread.ReturnAsync();
        await DrainAsync().ConfigureAwait(false);
    }

    /// <param name="thread">The loop's own thread, when reads block (<see cref="BlockingSocketStream"/>): each read happens there.</param>
    private async Task ReadLoopAsync(ReadLoopThread? thread)
    {
        while (true)
        {
            if (thread is not null) await thread.ReturnAsync();
            RawPdu? raw;
            try
            {
                raw = await _reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (DicomProtocolException ex)
            {
                await OnProtocolErrorAsync(ex).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is DicomNetworkException or IOException or SocketException or ObjectDisposedException)
            {
                OnTransportEnded(ex);
                return;
            }
            if (raw is null)
            {
                OnTransportEnded(null);
                return;
            }
            using (raw)
            {
                Touch();
                var state = State;
                if (state == DicomAssociationState.AwaitingTransportClose) continue; // Sta13: ignore PDUs (AA-6, AA-7)
                if (state == DicomAssociationState.Closed) return;
                try
                {
                    await HandlePduAsync(raw, state).ConfigureAwait(false);
                }
                catch (DicomProtocolException ex)
                {
                    await OnProtocolErrorAsync(ex).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
                {
                    OnTransportEnded(ex);
                    return;
                }
            }
            if (State == DicomAssociationState.Closed) return;
        }
    }

    private async Task OnProtocolErrorAsync(DicomProtocolException ex)
    {
        if (State is DicomAssociationState.AwaitingTransportClose or DicomAssociationState.Closed) return;
        _established.TrySetException(new DicomAssociationAbortedException($"Protocol error: {ex.Message}", DicomAbortSource.ServiceProvider, ex.AbortReason, ex));
        await AbortInternalAsync(DicomAbortSource.ServiceProvider, ex.AbortReason, $"protocol error: {ex.Message}", LogLevel.Warning, ex).ConfigureAwait(false);
    }

    private void OnTransportEnded(Exception? ex)
    {
        DicomAssociationState state;
        lock (_gate) state = _state;
        switch (state)
        {
            case DicomAssociationState.Closed or DicomAssociationState.AwaitingTransportClose:
                break; // expected: we are closing, or the peer closed as it should
            case DicomAssociationState.AwaitingAssociateRequest:
                SetEnd(ex is null ? LogLevel.Debug : LogLevel.Warning,
                    ex is null ? "connection closed before A-ASSOCIATE-RQ" : $"connection lost before A-ASSOCIATE-RQ: {ex.Message}", ex);
                break;
            default:
                SetEnd(LogLevel.Warning, ex is null ? "connection closed by the peer without A-RELEASE or A-ABORT" : $"connection lost: {ex.Message}", ex);
                break;
        }
        CloseTransport();
    }

    /// <summary>Sta13 after a framing error: discard raw bytes until the peer closes or ARTIM closes the transport.</summary>
    private async Task DrainAsync()
    {
        var scratch = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(scratch).ConfigureAwait(false) > 0) { }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // Closed by ARTIM or reset by the peer.
        }
    }

    private async ValueTask HandlePduAsync(RawPdu raw, DicomAssociationState state)
    {
        switch (raw.Type)
        {
            case DicomPduType.AssociateRequest when state == DicomAssociationState.AwaitingAssociateRequest:
                await OnAssociateRequestAsync((AssociateRequestPdu)raw.Decode()).ConfigureAwait(false);
                break;

            case DicomPduType.AssociateAccept when state == DicomAssociationState.AwaitingAssociateResponse:
                OnAssociateAccept((AssociateAcceptPdu)raw.Decode());
                break;

            case DicomPduType.AssociateReject when state == DicomAssociationState.AwaitingAssociateResponse:
                {
                    var rj = (AssociateRejectPdu)raw.Decode();
                    SetEnd(LogLevel.Information, $"rejected by the peer: {rj}");
                    _established.TrySetException(new DicomAssociationRejectedException(rj.Result, rj.Source, rj.Reason));
                    CloseTransport(); // AE-4
                    break;
                }

            case DicomPduType.DataTransfer when state is DicomAssociationState.Established or DicomAssociationState.AwaitingReleaseResponse:
                await OnDataAsync(raw).ConfigureAwait(false);
                break;

            case DicomPduType.ReleaseRequest when state == DicomAssociationState.Established:
                if (_rxCommand != null || _rxData != null)
                    throw new DicomProtocolException("A-RELEASE-RQ in the middle of a DIMSE message", DicomAbortReason.UnexpectedPdu);
                lock (_gate) _state = DicomAssociationState.AwaitingLocalReleaseResponse; // AR-2 -> Sta8
                _releaseTask = CompleteReleaseAsync();
                break;

            case DicomPduType.ReleaseRequest when state == DicomAssociationState.AwaitingReleaseResponse:
                // Release collision (AR-8).
                if (IsRequestor)
                {
                    lock (_gate) _state = DicomAssociationState.ReleaseCollisionRequestor; // Sta9
                    await SendPduAsync(PduCodec.Encode(new ReleaseResponsePdu()), CancellationToken.None).ConfigureAwait(false); // AR-9 -> Sta11
                }
                else
                {
                    lock (_gate) _state = DicomAssociationState.ReleaseCollisionAcceptor; // Sta10
                }
                break;

            case DicomPduType.ReleaseResponse when state is DicomAssociationState.AwaitingReleaseResponse or DicomAssociationState.ReleaseCollisionRequestor:
                _released = true;
                SetEnd(LogLevel.Information, "released");
                CloseTransport(); // AR-3
                break;

            case DicomPduType.ReleaseResponse when state == DicomAssociationState.ReleaseCollisionAcceptor:
                // AR-10 -> Sta12, then AR-4: our A-RELEASE-RP, then Sta13.
                _released = true;
                SetEnd(LogLevel.Information, "released (release collision)");
                await SendPduAsync(PduCodec.Encode(new ReleaseResponsePdu()), CancellationToken.None).ConfigureAwait(false);
                EnterAwaitingClose();
                break;

            case DicomPduType.Abort:
                {
                    var ab = (AbortPdu)raw.Decode();
                    SetEnd(LogLevel.Warning, $"aborted by the peer ({ab})");
                    _established.TrySetException(new DicomAssociationAbortedException($"Association aborted by the peer ({ab}).", ab.Source, ab.Reason));
                    CloseTransport(); // AA-3
                    break;
                }

            default:
                throw new DicomProtocolException($"Unexpected {raw.Type} PDU in state {state}", DicomAbortReason.UnexpectedPdu);
        }
    }

    /// <summary>Sta8: finish the operations still running, then A-RELEASE-RP and Sta13.</summary>
    private async Task CompleteReleaseAsync()
    {
        try
        {
            await WaitForOperationsAsync(Timeout.InfiniteTimeSpan).ConfigureAwait(false);
            lock (_gate)
            {
                if (_state != DicomAssociationState.AwaitingLocalReleaseResponse) return;
            }
            await SendPduAsync(PduCodec.Encode(new ReleaseResponsePdu()), CancellationToken.None).ConfigureAwait(false);
            _released = true;
            SetEnd(LogLevel.Information, "released");
            EnterAwaitingClose();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or DicomException)
        {
            _log.LogDebug(ex, "Association #{Id}: could not send A-RELEASE-RP", Id);
        }
    }

    private async Task WaitForOperationsAsync(TimeSpan timeout)
    {
        var deadline = timeout == Timeout.InfiniteTimeSpan ? (long?)null : _time.GetTimestamp();
        while (!_operations.IsEmpty)
        {
            var tasks = _operations.Values.Select(o => o.Task).ToArray();
            if (deadline is { } start)
            {
                var left = timeout - _time.GetElapsedTime(start);
                if (left <= TimeSpan.Zero) return;
                try
                {
                    await Task.WhenAll(tasks).WaitAsync(left, _time).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    return;
                }
            }
            else
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The association has closed: settle everything that depends on it, log the one closing line.</summary>
    private async Task FinishAsync()
    {
        _lifetime.Cancel();
        string reason;
        LogLevel level;
        Exception? ex;
        lock (_gate)
        {
            _endReason ??= "connection closed";
            reason = _endReason;
            level = _endLevel;
            ex = _endException;
        }
        var failure = new DicomAssociationAbortedException($"Association #{Id} ended: {reason}", inner: ex);
        _established.TrySetException(failure);
        _rxData?.Fail(failure);
        _rxData = null;
        foreach (var p in _pending.Values) p.Fail(failure);

        await WaitForOperationsAsync(_settings.OperationDrainTimeout).ConfigureAwait(false);
        if (!_operations.IsEmpty)
            _log.LogWarning("Association #{Id}: {Count} operation(s) still running {Seconds} s after the association ended (handlers ignoring cancellation)",
                Id, _operations.Count, _settings.OperationDrainTimeout.TotalSeconds);
        if (_releaseTask is { } rt) await rt.ConfigureAwait(false);
        _timer.Dispose();

        if (_log.IsEnabled(level))
        {
            if (level >= LogLevel.Warning)
                _log.Log(level, "Association #{Id} {Remote} {Calling}->{Called} {Verb}: {Reason}", Id, RemoteEndPoint,
                    CallingAE.Length > 0 ? CallingAE : "?", CalledAE.Length > 0 ? CalledAE : "?", "aborted", reason);
            else
                _log.Log(level, "Association #{Id} {Remote} {Calling}->{Called} ended: {Reason}", Id, RemoteEndPoint,
                    CallingAE.Length > 0 ? CallingAE : "?", CalledAE.Length > 0 ? CalledAE : "?", reason);
        }
        _closed.TrySetResult();
    }

    // ------------------------------------------------------------------ sending

    private async Task SendPduAsync(byte[] pdu, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(pdu, ct).ConfigureAwait(false);
            Touch();
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private sealed class IncomingOperation(ushort messageId, CancellationTokenSource cts)
    {
        public ushort MessageId { get; } = messageId;
        public CancellationTokenSource Cancellation { get; } = cts;
        public Task Task { get; set; } = Task.CompletedTask;
    }
}

/// <summary>An <see cref="IServiceProvider"/> that provides nothing (no handlers registered).</summary>
internal sealed class EmptyServiceProvider : IServiceProvider
{
    public static EmptyServiceProvider Instance { get; } = new();
    public object? GetService(Type serviceType) => null;
}
