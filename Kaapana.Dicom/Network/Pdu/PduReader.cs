using System.Buffers;
using System.Buffers.Binary;

namespace Kaapana.Dicom.Network;

/// <summary>
/// A PDU read from the wire: its type and body in a pooled buffer. The reader's <see cref="Dispose"/> returns the buffer, unless
/// fragments of it were handed on with <see cref="Retain"/> (a data set read by its service later): then the last release does.
/// </summary>
internal sealed class RawPdu(DicomPduType type, byte[] buffer, int length) : IDisposable
{
    private byte[]? _buffer = buffer;
    private int _references = 1;

    public DicomPduType Type { get; } = type;
    public int Length { get; } = length;
    public Memory<byte> Body => _buffer is { } b ? b.AsMemory(0, Length) : throw new ObjectDisposedException(nameof(RawPdu));

    public DicomPdu Decode() => PduCodec.DecodeBody((byte)Type, Body.Span);

    /// <summary>One more holder of the body; each calls <see cref="Dispose"/> once.</summary>
    public RawPdu Retain()
    {
        Interlocked.Increment(ref _references);
        return this;
    }

    public void Dispose()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b != null && b.Length > 0) ArrayPool<byte>.Shared.Return(b);
    }
}

/// <summary>
/// Reads PDUs from a stream with bounded memory: the type is checked before anything else, the length against a hard limit, and
/// the body buffer grows beyond 256 KiB (our default maximum, which peers fill) only once the first 256 KiB actually arrived (a
/// peer that announces 16 MiB and sends 10 bytes costs 256 KiB, and a 4 GB length is refused before any allocation).
/// </summary>
internal sealed class PduReader(Stream stream, uint maxPduLength)
{
    private const int InitialChunk = 256 * 1024;
    private readonly byte[] _header = new byte[PduCodec.HeaderLength];

    /// <summary>Largest PDU body accepted; may be raised once the association is negotiated.</summary>
    public uint MaxPduLength { get; set; } = maxPduLength;

    /// <summary>The next PDU, or null when the peer closed the connection cleanly at a PDU boundary.</summary>
    /// <exception cref="DicomProtocolException">Unknown type, or a length above the limit or impossible for the type.</exception>
    /// <exception cref="DicomNetworkException">The connection ended inside a PDU.</exception>
    public async ValueTask<RawPdu?> ReadAsync(CancellationToken ct)
    {
        int got = 0;
        while (got < _header.Length)
        {
            int n = await stream.ReadAsync(_header.AsMemory(got), ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (got == 0) return null;
                throw new DicomNetworkException($"Connection closed inside a PDU header ({got} of 6 bytes received).");
            }
            got += n;
        }
        byte type = _header[0];
        if (!PduCodec.IsKnownType(type))
            throw new DicomProtocolException($"Unrecognized PDU type 0x{type:X2}", DicomAbortReason.UnrecognizedPdu, 0);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(2));
        var pduType = (DicomPduType)type;
        if (pduType is DicomPduType.AssociateReject or DicomPduType.ReleaseRequest or DicomPduType.ReleaseResponse or DicomPduType.Abort)
        {
            if (length != 4)
                throw new DicomProtocolException($"{pduType} PDU must have length 4, not {length}", DicomAbortReason.InvalidPduParameterValue, 2);
        }
        else if (length > MaxPduLength)
        {
            throw new DicomProtocolException($"{pduType} PDU length {length} exceeds the limit of {MaxPduLength} bytes", DicomAbortReason.InvalidPduParameterValue, 2);
        }

        int total = (int)length;
        byte[]? buffer = total == 0 ? Array.Empty<byte>() : ArrayPool<byte>.Shared.Rent(Math.Min(total, InitialChunk));
        int filled = 0;
        try
        {
            while (filled < total)
            {
                if (filled == buffer!.Length)
                {
                    // The peer has sent a first full chunk: take the whole body at once (one copy of that chunk) rather than
                    // doubling. A PDU within our default maximum is read into one buffer without any copy.
                    var bigger = ArrayPool<byte>.Shared.Rent(total);
                    buffer.AsSpan(0, filled).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                int want = Math.Min(buffer.Length, total) - filled;
                int n = await stream.ReadAsync(buffer.AsMemory(filled, want), ct).ConfigureAwait(false);
                if (n == 0)
                    throw new DicomNetworkException($"Connection closed inside a {pduType} PDU ({filled} of {total} body bytes received).");
                filled += n;
            }
            var pdu = new RawPdu(pduType, buffer!, total);
            buffer = null;
            return pdu;
        }
        finally
        {
            if (buffer is { Length: > 0 }) ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
