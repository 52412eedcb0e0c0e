using System.Net;
using System.Net.Sockets;

namespace Kaapana.Tests.Interop;

/// <summary>
/// Accepts on one endpoint and pipes each connection to another, both ways, until both sides are done (a half-close is passed
/// on, so a request's end does not cut its answer). Lets a peer in a test network namespace reach a loopback-only server.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
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
                await Task.WhenAll(Forward(a, b), Forward(b, a));
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
