using System.Net;

namespace Kaapana.Dicom.Network;

/// <summary>
/// Receives C-STORE requests. Resolved once per association from the server's <see cref="IServiceProvider"/> (in a scope
/// when an <c>IServiceScopeFactory</c> is registered), so any constructor and lifetime work. Storage SOP classes are offered
/// in negotiation only when one is registered. <c>StoreAsync</c> runs on the association's read loop (it is resumed there as
/// data set bytes arrive): await, never block synchronously, or the association stalls.
/// </summary>
public interface IStoreHandler
{
    /// <summary>
    /// Stores one instance. <see cref="DicomStoreRequest.Dataset"/> is fed while P-DATA arrives: read it to its end (or stop
    /// early and return a failure). The returned status goes into the C-STORE-RSP; an exception becomes A700 "out of resources".
    /// </summary>
    ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken ct);
}

/// <summary>Optional: decides the C-ECHO status (default: success).</summary>
public interface IEchoHandler
{
    ValueTask<DicomStatus> EchoAsync(DicomAssociation association, CancellationToken ct);
}

/// <summary>One incoming C-STORE: who sent it, what it is, and its data set as a stream.</summary>
public sealed class DicomStoreRequest
{
    internal DicomStoreRequest(DicomAssociation association, DimseMessage request, DicomTransferSyntax transferSyntax, Stream dataset)
    {
        Association = association;
        Command = request.Command;
        TransferSyntax = transferSyntax;
        Dataset = dataset;
        SopClassUid = request.AffectedSopClassUid;
        SopInstanceUid = request.AffectedSopInstanceUid;
        MessageId = request.MessageId;
        Priority = (DimsePriority)request.Command.GetOrDefault<ushort>(DicomTags.Priority, 0);
        var originator = request.Command.GetString(DicomTags.MoveOriginatorApplicationEntityTitle);
        MoveOriginatorAE = originator.Length > 0 ? originator : null;
        MoveOriginatorMessageId = request.Command.TryGet<ushort>(DicomTags.MoveOriginatorMessageID, out var mid) ? mid : null;
    }

    public DicomAssociation Association { get; }
    public string CallingAE => Association.CallingAE;
    public string CalledAE => Association.CalledAE;
    public EndPoint? RemoteEndPoint => Association.RemoteEndPoint;

    /// <summary>Affected SOP Class UID of the request (what the command says; the data set normally agrees).</summary>
    public string SopClassUid { get; }
    public string SopInstanceUid { get; }

    /// <summary>The presentation context's transfer syntax: the encoding of <see cref="Dataset"/>.</summary>
    public DicomTransferSyntax TransferSyntax { get; }
    public ushort MessageId { get; }
    public DimsePriority Priority { get; }

    /// <summary>Set when the store is a sub-operation of a C-MOVE issued by this AE.</summary>
    public string? MoveOriginatorAE { get; }
    public ushort? MoveOriginatorMessageId { get; }

    /// <summary>The whole command set, for anything not surfaced above.</summary>
    public DicomDataset Command { get; }

    /// <summary>Optional Error Comment (0000,0902) for the C-STORE-RSP, set by the handler with a failure or warning status (at most 64 characters are sent).</summary>
    public string? ErrorComment { get; set; }

    /// <summary>
    /// The encoded data set (no meta information), in <see cref="TransferSyntax"/>. It is fed as P-DATA arrives, with
    /// back-pressure: nothing beyond about a megabyte is buffered, whatever the instance size. Read it once, forward only.
    /// </summary>
    public Stream Dataset { get; }

    /// <summary>File meta information for this instance (PS3.10 7.1), as <see cref="DicomFileMeta.Create"/> builds it.</summary>
    public DicomDataset CreateFileMetaInformation() =>
        DicomFileMeta.Create(SopClassUid, SopInstanceUid, TransferSyntax, CallingAE);

    /// <summary>
    /// Writes a Part 10 file to <paramref name="destination"/>: preamble, meta information, then the data set as it arrives,
    /// each received fragment written as it is (<see cref="IChunkedReadStream"/>: no copy on the way).
    /// </summary>
    public async Task WritePart10Async(Stream destination, CancellationToken ct)
    {
        await DicomFileMeta.WriteHeaderAsync(destination, CreateFileMetaInformation(), ct).ConfigureAwait(false);
        if (Dataset is not IChunkedReadStream chunks)
        {
            await Dataset.CopyToAsync(destination, 128 * 1024, ct).ConfigureAwait(false);
            return;
        }
        ReadOnlyMemory<byte> chunk;
        while (!(chunk = await chunks.ReadChunkAsync(ct).ConfigureAwait(false)).IsEmpty)
            await destination.WriteAsync(chunk, ct).ConfigureAwait(false);
    }
}
