namespace Kaapana.Dicom;

/// <summary>
/// A stream that can also hand out its data in the pieces it arrived in, without copying them (a network data set: the PDV
/// fragments, still in their PDU buffers). Use either this or the stream's own reads, not both.
/// </summary>
public interface IChunkedReadStream
{
    /// <summary>
    /// The next piece of data, valid until the next call or until the stream is disposed; empty at the end. Throws what ended
    /// the data early (e.g. the association was aborted).
    /// </summary>
    ValueTask<ReadOnlyMemory<byte>> ReadChunkAsync(CancellationToken ct = default);
}
