using System.Net.Sockets;

namespace Kaapana.Dicom.Network;

/// <summary>
/// A connected socket used only through blocking system calls, so .NET never registers it with its socket event loop. A read
/// blocks its thread in <c>recv()</c>, and the kernel wakes that thread directly when data arrives. With asynchronous I/O each
/// wait costs the event-loop thread's wake-up, a hand-off to the thread pool and often a second worker's wake-up; and every
/// arriving segment wakes the event-loop thread even when nobody waits. Reads belong on a thread of their own
/// (<see cref="ReadLoopThread"/>). A write blocks its caller until the kernel has taken the bytes; it checks its token before it
/// starts, and a write that blocks for good ends when the association is aborted (the socket is shut down).
/// </summary>
internal sealed class BlockingSocketStream(Socket socket) : Stream
{
    private int _disposed;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int n = socket.Receive(buffer, SocketFlags.None, out var error);
        return error == SocketError.Success ? n : throw Failure("receive", error);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        try
        {
            ct.ThrowIfCancellationRequested();
            return new ValueTask<int>(Read(buffer.Span));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<int>(ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        while (buffer.Length > 0)
        {
            int n = socket.Send(buffer, SocketFlags.None, out var error);
            if (error != SocketError.Success) throw Failure("send", error);
            buffer = buffer[n..];
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        try
        {
            ct.ThrowIfCancellationRequested();
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    // As NetworkStream: transport failures surface as IOException with the SocketException inside.
    private static IOException Failure(string what, SocketError error) =>
        new($"Unable to {what} data on the transport connection: {new SocketException((int)error).Message}.", new SocketException((int)error));

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            try
            {
                // Wakes a thread blocked in recv() or send() on this socket; closing the descriptor alone need not.
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Not connected any more.
            }
            socket.Dispose();
        }
        base.Dispose(disposing);
    }
}
