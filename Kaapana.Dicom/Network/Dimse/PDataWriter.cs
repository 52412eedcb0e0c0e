using System.Buffers;
using System.Buffers.Binary;

namespace Kaapana.Dicom.Network;

/// <summary>
/// Cuts one message part (command or data set) into P-DATA-TF PDUs of one PDV each, none larger than the peer's maximum
/// length. A full buffer is sent only once more bytes arrive, so the last fragment always carries data and the "last" bit
/// (PS3.8 E.2); <see cref="CompleteAsync"/> sends it. Asynchronous writes only: callers hold the association's send lock.
/// </summary>
internal sealed class PDataWriter : Stream
{
    private const int Header = 12; // PDU header 6 + PDV length 4 + context id 1 + control header 1
    private readonly Stream _output;
    private readonly byte _pcId;
    private readonly bool _isCommand;
    private readonly int _maxData;
    private readonly Action? _onSend;
    private byte[]? _buffer;
    private int _count;
    private long _written;

    /// <param name="maxPduLength">The peer's maximum P-DATA-TF variable field length (0 = unlimited).</param>
    /// <param name="cap">Our own upper bound for one PDU when the peer sets none or a huge one.</param>
    public PDataWriter(Stream output, byte pcId, bool isCommand, uint maxPduLength, int cap, Action? onSend = null)
    {
        _output = output;
        _pcId = pcId;
        _isCommand = isCommand;
        long limit = maxPduLength == 0 ? cap : Math.Min(maxPduLength, (uint)cap);
        _maxData = (int)Math.Max(1, limit - 6); // the variable field holds the 4-byte PDV length and 2 header bytes
        _onSend = onSend;
        _buffer = ArrayPool<byte>.Shared.Rent(Header + _maxData);
    }

    public long BytesWritten => _written;

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken ct = default)
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(PDataWriter));
        while (!source.IsEmpty)
        {
            if (_count == _maxData) await SendFragmentAsync(last: false, ct).ConfigureAwait(false);
            int n = Math.Min(source.Length, _maxData - _count);
            source.Span[..n].CopyTo(buffer.AsSpan(Header + _count));
            _count += n;
            source = source[n..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    /// <summary>Sends what is buffered as the last fragment.</summary>
    public ValueTask CompleteAsync(CancellationToken ct) => SendFragmentAsync(last: true, ct);

    private async ValueTask SendFragmentAsync(bool last, CancellationToken ct)
    {
        var b = _buffer ?? throw new ObjectDisposedException(nameof(PDataWriter));
        b[0] = (byte)DicomPduType.DataTransfer;
        b[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2), (uint)(_count + 6));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(6), (uint)(_count + 2));
        b[10] = _pcId;
        b[11] = (byte)((_isCommand ? 1 : 0) | (last ? 2 : 0));
        await _output.WriteAsync(b.AsMemory(0, Header + _count), ct).ConfigureAwait(false);
        _written += _count;
        _count = 0;
        _onSend?.Invoke();
    }

    protected override void Dispose(bool disposing)
    {
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b != null) ArrayPool<byte>.Shared.Return(b);
        base.Dispose(disposing);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Synchronous writes would block on the socket; every caller here writes asynchronously.</summary>
    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("PDataWriter accepts asynchronous writes only.");
}
