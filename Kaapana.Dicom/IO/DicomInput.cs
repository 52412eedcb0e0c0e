using System.Buffers.Binary;
using System.IO.Compression;

namespace Kaapana.Dicom;

/// <summary>
/// A buffered, position-tracking view of the input stream. Knows how many bytes remain when the stream is seekable,
/// so a bogus length is rejected instead of allocated; when it is not, values are read in bounded chunks.
/// </summary>
internal sealed class DicomInput
{
    private Stream _stream;
    // Pooled: a header parse reads a few KiB, and a fresh zeroed 16 KiB array per file was a measurable share of its cost.
    private byte[] _buf = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
    private byte[]? _rented;
    private int _readSize = 4096; // first read small: most headers fit, and pixel data need not be pulled in
    private int _pos, _len;
    private long _bufStart;        // logical position of _buf[0]
    private long? _end;            // logical end position, when known
    private readonly long _origin; // stream position at which reading started (for file offsets)

    public DicomInput(Stream stream)
    {
        _stream = stream;
        _rented = _buf;
        if (stream.CanSeek)
        {
            _origin = stream.Position;
            _end = stream.Length - _origin;
        }
    }

    public long Position => _bufStart + _pos;
    public long Remaining => _end is { } e ? e - Position : long.MaxValue;
    public bool LengthKnown => _end.HasValue;

    /// <summary>True once the input has been switched to an inflating reader: offsets then no longer map to file offsets.</summary>
    public bool IsDeflated { get; private set; }

    /// <summary>Absolute offset in the underlying file of the current position.</summary>
    public long FileOffset => _origin + Position;

    /// <summary>Ensures at least <paramref name="n"/> bytes are buffered; false if the input ends first.</summary>
    public bool TryEnsure(int n)
    {
        if (_len - _pos >= n) return true;
        if (n > _buf.Length) Array.Resize(ref _buf, Math.Max(n, _buf.Length * 2));
        if (_pos > 0)
        {
            Buffer.BlockCopy(_buf, _pos, _buf, 0, _len - _pos);
            _bufStart += _pos;
            _len -= _pos;
            _pos = 0;
        }
        while (_len < n)
        {
            int want = Math.Max(n - _len, Math.Min(_readSize, _buf.Length - _len));
            _readSize = _buf.Length;
            int r = _stream.Read(_buf, _len, want);
            if (r <= 0) return false;
            _len += r;
        }
        return true;
    }

    /// <summary>Returns the pooled buffer; the input must not be read afterwards.</summary>
    public void Release()
    {
        if (_rented is null) return;
        System.Buffers.ArrayPool<byte>.Shared.Return(_rented);
        _rented = null;
        _buf = [];
        _pos = _len = 0;
    }

    public bool AtEnd => !TryEnsure(1);

    public ReadOnlySpan<byte> Peek(int n) => TryEnsure(n) ? _buf.AsSpan(_pos, n) : _buf.AsSpan(_pos, _len - _pos);

    private void Need(int n, string what)
    {
        if (!TryEnsure(n)) throw new DicomFormatException($"Unexpected end of data reading {what}", Position);
    }

    public ushort ReadUInt16(bool bigEndian)
    {
        Need(2, "a 16-bit value");
        var s = _buf.AsSpan(_pos, 2);
        _pos += 2;
        return bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);
    }

    /// <summary>
    /// Reads a tag with one buffer fill, so both halves stay in the buffer and <see cref="Rewind"/> can step back over it
    /// (two separate 16-bit reads could compact the buffer in between when the stream delivers few bytes per read).
    /// </summary>
    public DicomTag ReadTag(bool bigEndian)
    {
        Need(4, "a tag");
        var s = _buf.AsSpan(_pos, 4);
        _pos += 4;
        return bigEndian
            ? new DicomTag(BinaryPrimitives.ReadUInt16BigEndian(s), BinaryPrimitives.ReadUInt16BigEndian(s[2..]))
            : new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(s), BinaryPrimitives.ReadUInt16LittleEndian(s[2..]));
    }

    public uint ReadUInt32(bool bigEndian)
    {
        Need(4, "a 32-bit value");
        var s = _buf.AsSpan(_pos, 4);
        _pos += 4;
        return bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
    }

    public void ReadExactly(Span<byte> dest, DicomTag? tag)
    {
        if (!TryEnsure(dest.Length)) throw new DicomFormatException("Unexpected end of data", Position, tag);
        _buf.AsSpan(_pos, dest.Length).CopyTo(dest);
        _pos += dest.Length;
    }

    /// <summary>Reads a value of <paramref name="length"/> bytes, never allocating more than the input can actually supply.</summary>
    public byte[] ReadBytes(long length, DicomTag? tag)
    {
        if (length > Remaining) throw new DicomFormatException($"Value length {length} exceeds the {Remaining} bytes remaining", Position, tag);
        if (length > Array.MaxLength) throw new DicomFormatException($"Value length {length} is too large to hold in memory", Position, tag);
        int n = (int)length;
        if (_end.HasValue || n <= 1 << 20)
        {
            var result = new byte[n];
            CopyOut(result, tag);
            return result;
        }
        // Unknown remaining length (deflated or network input): grow as data arrives so a bogus 4 GB length cannot allocate 4 GB.
        using var ms = new MemoryStream();
        var chunk = new byte[1 << 20];
        long left = n;
        while (left > 0)
        {
            int c = (int)Math.Min(chunk.Length, left);
            CopyOut(chunk.AsSpan(0, c), tag);
            ms.Write(chunk, 0, c);
            left -= c;
        }
        return ms.ToArray();
    }

    private void CopyOut(Span<byte> dest, DicomTag? tag)
    {
        int buffered = Math.Min(_len - _pos, dest.Length);
        _buf.AsSpan(_pos, buffered).CopyTo(dest);
        _pos += buffered;
        int done = buffered;
        while (done < dest.Length)
        {
            int r = _stream.Read(dest[done..]);
            if (r <= 0) throw new DicomFormatException("Unexpected end of data inside a value", Position + (done - buffered), tag);
            done += r;
            _bufStart += r; // bytes consumed directly from the stream advance the logical position
        }
    }

    public void Skip(long n, DicomTag? tag)
    {
        if (n > Remaining) throw new DicomFormatException($"Value length {n} exceeds the {Remaining} bytes remaining", Position, tag);
        long buffered = Math.Min(_len - _pos, n);
        _pos += (int)buffered;
        n -= buffered;
        if (n == 0) return;
        if (_stream.CanSeek && !IsDeflated)
        {
            _stream.Seek(n, SeekOrigin.Current);
            _bufStart += _pos + n;
            _pos = _len = 0;
            return;
        }
        var scratch = new byte[Math.Min(n, 81920)];
        while (n > 0)
        {
            int r = _stream.Read(scratch, 0, (int)Math.Min(scratch.Length, n));
            if (r <= 0) throw new DicomFormatException("Unexpected end of data", Position, tag);
            _bufStart += r;
            n -= r;
        }
    }

    /// <summary>Steps back over bytes still in the buffer (used after peeking at a tag).</summary>
    public void Rewind(int n)
    {
        if (n > _pos) throw new InvalidOperationException("Cannot rewind beyond the buffer.");
        _pos -= n;
    }

    /// <summary>From here on the bytes are a raw deflate stream (Deflated Explicit VR Little Endian, PS3.5 A.5).</summary>
    public void SwitchToDeflate()
    {
        var rest = _buf.AsSpan(_pos, _len - _pos).ToArray();
        Stream tail = rest.Length > 0 ? new PrefixedStream(rest, _stream) : _stream;
        _stream = new DeflateStream(tail, CompressionMode.Decompress);
        _bufStart = Position;
        _pos = _len = 0;
        _end = null;
        IsDeflated = true;
    }

    private sealed class PrefixedStream(byte[] prefix, Stream inner) : ReadOnlyStream
    {
        private int _p;
        public override int Read(Span<byte> buffer)
        {
            if (_p < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _p);
                prefix.AsSpan(_p, n).CopyTo(buffer);
                _p += n;
                return n;
            }
            return inner.Read(buffer);
        }
    }
}
