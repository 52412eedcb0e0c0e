namespace Kaapana.Dicom.Network;

/// <summary>
/// The data set part of an outgoing DIMSE message: either a <see cref="DicomDataset"/> (encoded in the presentation context's
/// transfer syntax when sent) or bytes already encoded in a known syntax (sent as they are when the syntaxes match, and
/// re-encoded among uncompressed syntaxes otherwise). Everything that can fail is checked before the command is sent, so a
/// refused data set never leaves half a message on the wire.
/// </summary>
public abstract class DimseDataset
{
    public static DimseDataset FromDataset(DicomDataset dataset, DicomTransferSyntax? sourceSyntax = null) => new InMemory(dataset, sourceSyntax);

    /// <summary>Encoded bytes in <paramref name="syntax"/> (e.g. the part of a Part 10 file after its meta information), read to their end.</summary>
    public static DimseDataset FromEncoded(Stream encoded, DicomTransferSyntax syntax, bool leaveOpen = false) => new Encoded(encoded, syntax, leaveOpen);

    /// <summary>Checks the data set can be sent in <paramref name="target"/> and returns the writer that sends it.</summary>
    internal abstract ValueTask<Func<Stream, CancellationToken, ValueTask>> PrepareAsync(DicomTransferSyntax target, CancellationToken ct);

    internal static void CheckTranscodable(DicomDataset ds, DicomTransferSyntax? from, DicomTransferSyntax to)
    {
        bool fragments = ds.TryGetElement(DicomTags.PixelData, out var pd) && pd is DicomFragmentSequence;
        if (fragments && !to.IsEncapsulated)
            throw new DicomNetworkException(
                $"Pixel data is compressed ({from?.Name ?? "encapsulated"}); the peer accepted only {to.Name}, and decompression is not supported yet.");
        if (to.IsEncapsulated && (from is null || from.Uid != to.Uid) && ds.Contains(DicomTags.PixelData))
            throw new DicomNetworkException($"Cannot encode pixel data from {from?.Name ?? "native"} into {to.Name}: no codec.");
    }

    private static readonly DicomWriteOptions KeepGroupLengths = new() { KeepGroupLengths = true };

    internal static Func<Stream, CancellationToken, ValueTask> EncodeToMemory(DicomDataset ds, DicomTransferSyntax target)
    {
        var chunks = new ChunkedBufferStream();
        try
        {
            // Retired group lengths are kept (recomputed): a re-encoded data set should hold every element it had.
            DicomWriter.WriteDataset(chunks, ds, target, KeepGroupLengths);
        }
        catch (DicomException ex)
        {
            throw new DicomNetworkException($"Cannot encode the data set as {target.Name}: {ex.Message}", ex);
        }
        return chunks.ReplayAsync;
    }

    private sealed class InMemory(DicomDataset dataset, DicomTransferSyntax? source) : DimseDataset
    {
        internal override ValueTask<Func<Stream, CancellationToken, ValueTask>> PrepareAsync(DicomTransferSyntax target, CancellationToken ct)
        {
            CheckTranscodable(dataset, source, target);
            return ValueTask.FromResult(EncodeToMemory(dataset, target));
        }
    }

    private sealed class Encoded(Stream stream, DicomTransferSyntax syntax, bool leaveOpen) : DimseDataset
    {
        internal override ValueTask<Func<Stream, CancellationToken, ValueTask>> PrepareAsync(DicomTransferSyntax target, CancellationToken ct)
        {
            if (target.Uid == syntax.Uid)
            {
                return ValueTask.FromResult<Func<Stream, CancellationToken, ValueTask>>(async (output, token) =>
                {
                    try
                    {
                        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(256 * 1024);
                        long total = 0;
                        try
                        {
                            int n;
                            while ((n = await stream.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
                            {
                                await output.WriteAsync(buffer.AsMemory(0, n), token).ConfigureAwait(false);
                                total += n;
                            }
                        }
                        finally
                        {
                            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                        }
                        // PS3.5 A.5: an odd-length deflated bitstream is padded with one NUL byte (a few files omit it);
                        // DIMSE data sets are even-length in every syntax.
                        if ((total & 1) == 1) await output.WriteAsync(new byte[1], token).ConfigureAwait(false);
                    }
                    finally
                    {
                        if (!leaveOpen) await stream.DisposeAsync().ConfigureAwait(false);
                    }
                });
            }
            if (syntax.IsEncapsulated || target.IsEncapsulated)
            {
                if (!leaveOpen) stream.Dispose();
                throw new DicomNetworkException(
                    $"The data set is encoded as {syntax.Name}; the peer accepted {target.Name}. Only uncompressed syntaxes can be converted here (decompression is not supported yet).");
            }
            DicomDataset ds;
            try
            {
                ds = DicomReader.ReadDataset(stream, syntax);
            }
            catch (DicomException ex)
            {
                throw new DicomNetworkException($"Cannot re-encode the data set from {syntax.Name} to {target.Name}: {ex.Message}", ex);
            }
            finally
            {
                if (!leaveOpen) stream.Dispose();
            }
            CheckTranscodable(ds, syntax, target);
            return ValueTask.FromResult(EncodeToMemory(ds, target));
        }
    }
}

/// <summary>Write-only stream collecting bytes in 64 KiB chunks (no large contiguous array), replayed asynchronously.</summary>
internal sealed class ChunkedBufferStream : Stream
{
    private const int ChunkSize = 64 * 1024;
    private readonly List<byte[]> _chunks = [];
    private int _lastUsed = ChunkSize;
    private long _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_lastUsed == ChunkSize)
            {
                _chunks.Add(new byte[ChunkSize]);
                _lastUsed = 0;
            }
            int n = Math.Min(buffer.Length, ChunkSize - _lastUsed);
            buffer[..n].CopyTo(_chunks[^1].AsSpan(_lastUsed));
            _lastUsed += n;
            _length += n;
            buffer = buffer[n..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Writes the bytes out, plus one NUL when their count is odd (a deflated bitstream, PS3.5 A.5).</summary>
    public async ValueTask ReplayAsync(Stream destination, CancellationToken ct)
    {
        for (int i = 0; i < _chunks.Count; i++)
        {
            int n = i == _chunks.Count - 1 ? _lastUsed : ChunkSize;
            await destination.WriteAsync(_chunks[i].AsMemory(0, n), ct).ConfigureAwait(false);
        }
        if ((_length & 1) == 1) await destination.WriteAsync(new byte[1], ct).ConfigureAwait(false);
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
