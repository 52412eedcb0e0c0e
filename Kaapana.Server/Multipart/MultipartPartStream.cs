using Kaapana.Dicom;

namespace Kaapana.Server.Multipart;

/// <summary>
/// One multipart part as the ingest pipeline (or a zip spool) reads it. The pipeline treats an <see cref="IOException"/> from
/// its input as its own failure; this wrapper remembers when the fault came from the request body (a truncated or malformed
/// multipart stream, a part over the reader's limits) so the answer can blame the request instead. Faults are still thrown,
/// never turned into an end of stream: a part cut off at an element boundary would otherwise parse as a shorter, valid instance.
/// </summary>
internal sealed class MultipartPartStream(Stream part) : ReadOnlyStream
{
    /// <summary>Why the request body could not be read to the end of this part, or null.</summary>
    public Exception? Fault { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return part.Read(buffer);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            throw Remember(ex);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await part.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            throw Remember(ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private IOException Remember(Exception ex)
    {
        Fault = ex;
        return ex as IOException ?? new IOException(ex.Message, ex);
    }
}
