using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaapana.Dicom.Network;

/// <summary>
/// DICOM acceptor: listens on TCP, negotiates associations against <see cref="DicomServerOptions"/> and the services of a
/// <see cref="DimseServiceRegistry"/>, and serves each association on its own task. Handlers (<see cref="IStoreHandler"/>, ...)
/// come from <paramref name="services"/>, resolved once per association in a fresh scope when an
/// <see cref="IServiceScopeFactory"/> is registered (so scoped handlers get their own DbContext and the like).
/// </summary>
/// <param name="services">Where handlers are resolved; any <see cref="IServiceProvider"/> (a DI container, or a hand-made one).</param>
/// <param name="registry">Services offered; <see cref="DimseServiceRegistry.CreateDefault"/> (Verification, Storage) when null.</param>
public sealed class DicomServer(DicomServerOptions options, IServiceProvider services, ILoggerFactory? loggerFactory = null,
    DimseServiceRegistry? registry = null, TimeProvider? timeProvider = null) : IAsyncDisposable
{
    private readonly DicomServerOptions _options = options;
    private readonly DicomAssociationSettings _settings = options.ToSettings();
    private readonly DimseServiceRegistry _registry = registry ?? DimseServiceRegistry.CreateDefault(options.EffectiveStorageSopClasses);
    private readonly ILogger _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DicomServer>();
    private readonly ILogger _associationLog = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DicomAssociation>();
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly ConcurrentDictionary<long, DicomAssociation> _associations = new();
    private readonly ConcurrentDictionary<long, Task> _connectionTasks = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private long _nextConnection;
    private int _connections;
    private int _stopped;

    public DicomServerOptions Options => _options;

    /// <summary>The bound address and port (the real port when <see cref="DicomServerOptions.Port"/> is 0). Null before start.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Open TCP connections, in any state (negotiating, established, closing).</summary>
    public int OpenConnections => Volatile.Read(ref _connections);

    /// <summary>Associations currently established (Sta6, or releasing).</summary>
    public int ActiveAssociations => _associations.Values.Count(a => a.State is DicomAssociationState.Established
        or DicomAssociationState.AwaitingLocalReleaseResponse or DicomAssociationState.AwaitingReleaseResponse
        or DicomAssociationState.ReleaseCollisionAcceptor or DicomAssociationState.ReleaseCollisionRequestor);

    /// <summary>A snapshot of the connections' associations.</summary>
    public IReadOnlyCollection<DicomAssociation> Associations => _associations.Values.ToList();

    /// <summary>Binds and starts accepting. Binding errors (port in use, bad address) are thrown here.</summary>
    public Task StartAsync(CancellationToken ct = default)
    {
        if (_listener != null) throw new InvalidOperationException("The server is already started.");
        ct.ThrowIfCancellationRequested();
        var address = _options.BindAddress is "*" or "" ? IPAddress.IPv6Any : IPAddress.Parse(_options.BindAddress);
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any)) listener.DualMode = true;
            listener.Bind(new IPEndPoint(address, _options.Port));
            listener.Listen(_options.Backlog);
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw new DicomNetworkException($"Cannot listen on {_options.BindAddress}:{_options.Port}: {ex.Message}", ex);
        }
        _listener = listener;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _log.LogInformation("DICOM server listening on {EndPoint} as {AETitles} (max {Max} associations)", LocalEndPoint,
            _options.AETitles.Length > 0 ? string.Join(", ", _options.AETitles) : "any AE title", _options.MaxAssociations);
        _acceptLoop = AcceptLoopAsync(listener);
        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (_stopping.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                // E.g. out of file descriptors: keep serving the connections we have, try again shortly.
                _log.LogWarning("Accepting a connection failed: {Message}", ex.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _time, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            var key = Interlocked.Increment(ref _nextConnection);
            var task = ServeConnectionAsync(socket);
            _connectionTasks[key] = task;
            _ = task.ContinueWith(_ => _connectionTasks.TryRemove(key, out Task? _), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeConnectionAsync(Socket socket)
    {
        int open = Interlocked.Increment(ref _connections);
        try
        {
            socket.NoDelay = true;
            if (open > 2 * Math.Max(1, _options.MaxAssociations))
            {
                // Far beyond the limit: do not even spend a read on it.
                _log.LogWarning("Connection from {Remote} closed at once: {Open} connections open", SafeRemote(socket), open);
                socket.Dispose();
                return;
            }
            var condition = _stopping.IsCancellationRequested ? AssociationNegotiator.Condition.ShuttingDown
                : open > _options.MaxAssociations ? AssociationNegotiator.Condition.OverLimit
                : AssociationNegotiator.Condition.Normal;
            var scopeFactory = services.GetService(typeof(IServiceScopeFactory)) as IServiceScopeFactory;
            var scope = scopeFactory?.CreateAsyncScope();
            try
            {
                var association = new DicomAssociation(socket, isRequestor: false, _settings, _registry,
                    scope?.ServiceProvider ?? services, _associationLog, _time);
                _associations[association.Id] = association;
                try
                {
                    await association.RunAcceptorAsync((rq, a, ct) => NegotiateAsync(rq, a,
                        _stopping.IsCancellationRequested ? AssociationNegotiator.Condition.ShuttingDown : condition, ct)).ConfigureAwait(false);
                }
                finally
                {
                    _associations.TryRemove(association.Id, out _);
                }
            }
            finally
            {
                if (scope is { } s) await s.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "Connection from {Remote} failed", SafeRemote(socket));
            socket.Dispose();
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    /// <summary>
    /// Association-level checks first (limits, AE titles); then the application's <see cref="IAssociationPolicy"/>, if any,
    /// decides whether the peer may associate and which services it may use.
    /// </summary>
    private async ValueTask<DicomPdu> NegotiateAsync(AssociateRequestPdu rq, DicomAssociation a, AssociationNegotiator.Condition condition,
        CancellationToken ct)
    {
        if (AssociationNegotiator.Check(rq, _options, condition) is { } reject) return reject;
        var rights = DimseServiceRights.All;
        if (a.Services.GetService(typeof(IAssociationPolicy)) is IAssociationPolicy policy)
        {
            var decision = await policy.EvaluateAsync(new AssociationRequestInfo(a.CallingAE, a.CalledAE, a.RemoteEndPoint as IPEndPoint), ct)
                .ConfigureAwait(false);
            if (!decision.Accepted)
            {
                _log.LogWarning("Association #{Id} from {Remote} {Calling}->{Called} rejected by policy: {Reason}", a.Id, a.RemoteEndPoint,
                    a.CallingAE, a.CalledAE, decision.Reason);
                return new AssociateRejectPdu(DicomRejectResult.Permanent, DicomRejectSource.ServiceUser, DicomRejectReason.CallingAETitleNotRecognized);
            }
            rights = decision.Rights;
        }
        return AssociationNegotiator.Answer(rq, _options, _registry, a.Services, rights);
    }

    private static EndPoint? SafeRemote(Socket s)
    {
        try
        {
            return s.RemoteEndPoint;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Stops accepting, lets running associations finish for <see cref="DicomServerOptions.ShutdownGracePeriod"/>, then aborts
    /// the rest and waits until every connection is closed. Cancelling <paramref name="ct"/> shortens the grace period.
    /// </summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        if (_listener is null || Interlocked.Exchange(ref _stopped, 1) != 0) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        if (_acceptLoop != null) await _acceptLoop.ConfigureAwait(false);

        var all = Task.WhenAll(_connectionTasks.Values.ToArray());
        if (!all.IsCompleted)
        {
            _log.LogInformation("DICOM server stopping: waiting up to {Seconds} s for {Count} association(s)",
                _options.ShutdownGracePeriod.TotalSeconds, _associations.Count);
            try
            {
                await all.WaitAsync(_options.ShutdownGracePeriod, _time, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                foreach (var a in _associations.Values) _ = a.AbortAsync("server shutting down", LogLevel.Warning);
            }
        }
        await Task.WhenAll(_connectionTasks.Values.ToArray()).ConfigureAwait(false);
        _log.LogInformation("DICOM server on {EndPoint} stopped", LocalEndPoint);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
