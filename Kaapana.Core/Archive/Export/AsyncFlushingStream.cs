namespace Kaapana.Core.Archive.Export;

/// <summary>
/// A write-only wrapper for outputs that refuse synchronous writes (an ASP.NET Core response body): ZipArchive still writes
/// an entry's data descriptor synchronously when the entry stream is disposed, even through DisposeAsync (.NET 10). Such
/// writes are held in a small buffer and sent by the next asynchronous write or flush; asynchronous writes pass straight on.
/// </summary>
internal sealed class AsyncFlushingStream(Stream inner) : Stream
{
    private readonly MemoryStream _pending = new();
    private long _written;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();

    /// <summary>Bytes accepted so far (ZipArchive reads Position of an unseekable output to place its entries).</summary>
    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _pending.Write(buffer);
        _written += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        await SendPendingAsync(ct);
        await inner.WriteAsync(buffer, ct);
        _written += buffer.Length;
    }

    public override async Task FlushAsync(CancellationToken ct)
    {
        await SendPendingAsync(ct);
        await inner.FlushAsync(ct);
    }

    // Nothing to do synchronously: pending bytes go out with the next asynchronous call (the writer ends with FlushAsync).
    public override void Flush()
    {
    }

    private async ValueTask SendPendingAsync(CancellationToken ct)
    {
        if (_pending.Length == 0) return;
        await inner.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), ct);
        _pending.SetLength(0);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _pending.Dispose();
        base.Dispose(disposing);
    }
}
