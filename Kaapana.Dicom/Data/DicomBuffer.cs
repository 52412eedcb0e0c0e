namespace Kaapana.Dicom;

/// <summary>
/// The raw bytes of a value, always in little-endian byte order (the reader swaps big-endian input).
/// Either held in memory or left in a file and read on demand, so a 2 GB multi-frame header can be parsed without loading it.
/// </summary>
public abstract class DicomBuffer
{
    public abstract long Length { get; }

    /// <summary>The bytes. For file-backed buffers this reads the file each time (nothing is cached, on purpose).</summary>
    public abstract ReadOnlyMemory<byte> Memory { get; }

    public virtual bool IsInMemory => true;

    public virtual Stream OpenRead() => new MemoryStream(Memory.ToArray(), writable: false);

    /// <summary>Copies the value to a stream without materialising it twice.</summary>
    public virtual void CopyTo(Stream destination) => destination.Write(Memory.Span);

    public static DicomBuffer Empty { get; } = new MemoryBuffer(ReadOnlyMemory<byte>.Empty);

    public static DicomBuffer From(ReadOnlyMemory<byte> bytes) => bytes.Length == 0 ? Empty : new MemoryBuffer(bytes);
}

public sealed class MemoryBuffer(ReadOnlyMemory<byte> bytes) : DicomBuffer
{
    public override long Length => bytes.Length;
    public override ReadOnlyMemory<byte> Memory => bytes;
}

/// <summary>A value left in its file. <paramref name="swapUnit"/> &gt; 1 means the file is big endian and words of that size are swapped on read.</summary>
public sealed class FileRangeBuffer(string path, long offset, long length, int swapUnit = 1) : DicomBuffer
{
    public string Path { get; } = path;
    public long Offset { get; } = offset;
    public override long Length => length;
    public override bool IsInMemory => false;

    public override ReadOnlyMemory<byte> Memory
    {
        get
        {
            if (length > Array.MaxLength)
                throw new DicomException($"Value of {length} bytes in {Path} is too large to load into memory; stream it with OpenRead().");
            var data = new byte[length];
            using var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            fs.Position = Offset;
            fs.ReadExactly(data);
            ByteSwap.InPlace(data, swapUnit);
            return data;
        }
    }

    public override Stream OpenRead()
    {
        if (swapUnit > 1) return base.OpenRead();
        var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.SequentialScan);
        fs.Position = Offset;
        return new SubStream(fs, length);
    }

    public override void CopyTo(Stream destination)
    {
        using var s = OpenRead();
        s.CopyTo(destination);
    }
}

/// <summary>Byte-order swapping for big-endian transfer syntax values.</summary>
public static class ByteSwap
{
    public static void InPlace(Span<byte> data, int unit)
    {
        switch (unit)
        {
            case 2:
                for (int i = 0; i + 1 < data.Length; i += 2) (data[i], data[i + 1]) = (data[i + 1], data[i]);
                break;
            case 4:
            case 8:
                for (int i = 0; i + unit <= data.Length; i += unit) data.Slice(i, unit).Reverse();
                break;
        }
    }
}

/// <summary>Read-only window over part of another stream; disposes the inner stream.</summary>
internal sealed class SubStream(Stream inner, long length) : Stream
{
    private readonly long _start = inner.Position;
    private long _pos;
    public override bool CanRead => true;
    public override bool CanSeek => inner.CanSeek;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position
    {
        get => _pos;
        set { _pos = Math.Clamp(value, 0, length); inner.Position = _start + _pos; }
    }
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, length - _pos);
        if (n <= 0) return 0;
        n = inner.Read(buffer[..n]);
        _pos += n;
        return n;
    }
    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _pos + offset, _ => length + offset };
        return _pos;
    }
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
}
