using System.Buffers;

namespace Kaapana.Core.Archive.Ingest;

/// <summary>The first bytes of a staged object, still in a pooled buffer after they were written; dispose to return it.</summary>
internal sealed class StagedHead(byte[] buffer, int length) : IDisposable
{
    private byte[]? _buffer = buffer;

    public ReadOnlySpan<byte> Bytes => (_buffer ?? throw new ObjectDisposedException(nameof(StagedHead))).AsSpan(0, length);

    public int Length => length;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b) ArrayPool<byte>.Shared.Return(b);
    }
}

/// <summary>
/// A staged object read back for parsing: bytes within its <see cref="StagedHead"/> come from memory, the rest from the
/// staging file, opened only when a read goes past the head. Seekable with a known length, so a DICOM reader skips large
/// values by position and catches a truncated file without reading the rest.
/// </summary>
internal sealed class StagedHeadStream(StagedHead head, long length, Func<Stream> openRest) : Stream
{
    private long _position;
    private Stream? _rest;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(Span<byte> buffer)
    {
        if (_position >= length || buffer.IsEmpty) return 0;
        int n;
        if (_position < head.Length)
        {
            n = Math.Min(buffer.Length, head.Length - (int)_position);
            head.Bytes.Slice((int)_position, n).CopyTo(buffer);
        }
        else
        {
            _rest ??= openRest();
            _rest.Position = _position;
            n = _rest.Read(buffer[..(int)Math.Min(buffer.Length, length - _position)]);
        }
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    protected override void Dispose(bool disposing)
    {
        if (disposing) _rest?.Dispose();
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
