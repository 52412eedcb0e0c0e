using System.Net;

namespace Kaapana.Dicom.Network.Query;

/// <summary>
/// C-FIND SCP (Query/Retrieve, PS3.4 C.4.1). Resolved per association like <see cref="IStoreHandler"/>; the FIND SOP Classes
/// of Patient Root and Study Root are offered only when one is registered.
/// </summary>
public interface IFindHandler
{
    /// <summary>
    /// The entities matching <see cref="DicomFindRequest.Query"/> at <see cref="DicomFindRequest.Level"/>. Yield candidates (e.g.
    /// index records with the attributes of the levels above): each is turned into a response identifier with
    /// <see cref="DicomQuery.CreateResponse"/>, so extra attributes are harmless. <paramref name="ct"/> is cancelled by
    /// C-CANCEL-RQ (and when the association ends): stop enumerating, the SCU then gets status Cancel.
    /// </summary>
    IAsyncEnumerable<DicomDataset> FindAsync(DicomFindRequest request, CancellationToken ct);
}

/// <summary>
/// C-MOVE SCP (PS3.4 C.4.2): the application resolves the identifier to instances and the destination AE title to an address;
/// the service opens the sub-association and sends the C-STORE sub-operations, reporting progress to the requestor.
/// </summary>
public interface IMoveHandler
{
    /// <summary>Where <paramref name="aeTitle"/> listens; null when it is unknown (status A801).</summary>
    ValueTask<DicomApplicationEntity?> ResolveDestinationAsync(string aeTitle, DicomRetrieveRequest request, CancellationToken ct);

    /// <summary>The instances the identifier selects (all are collected before the first sub-operation, to count them).</summary>
    IAsyncEnumerable<DicomRetrieveInstance> GetInstancesAsync(DicomRetrieveRequest request, CancellationToken ct);
}

/// <summary>
/// C-GET SCP (PS3.4 C.4.3): the instances are sent as C-STORE-RQ on the requestor's own association, on presentation contexts
/// where it took the SCP role (role selection). Offering the GET SOP Classes also accepts the storage contexts it needs.
/// </summary>
public interface IGetHandler
{
    /// <summary>The instances the identifier selects.</summary>
    IAsyncEnumerable<DicomRetrieveInstance> GetInstancesAsync(DicomRetrieveRequest request, CancellationToken ct);
}

/// <summary>A remote AE: title and network address (e.g. a C-MOVE destination).</summary>
public sealed record DicomApplicationEntity(string AETitle, string Host, int Port)
{
    public override string ToString() => $"{AETitle}@{Host}:{Port}";
}

/// <summary>What every Q/R request carries: the association, the model and level, the identifier as received and parsed.</summary>
public abstract class DicomQueryRetrieveRequest
{
    private protected DicomQueryRetrieveRequest(DimseRequestContext context, QueryRetrieveInformationModel model, QueryRetrieveLevel level,
        DicomDataset identifier, DicomQuery query)
    {
        Association = context.Association;
        Command = context.Request.Command;
        MessageId = context.Request.MessageId;
        Priority = (DimsePriority)context.Request.Command.GetOrDefault<ushort>(DicomTags.Priority, 0);
        Model = model;
        Level = level;
        Identifier = identifier;
        Query = query;
    }

    public DicomAssociation Association { get; }
    public string CallingAE => Association.CallingAE;
    public string CalledAE => Association.CalledAE;
    public EndPoint? RemoteEndPoint => Association.RemoteEndPoint;
    public QueryRetrieveInformationModel Model { get; }
    public QueryRetrieveLevel Level { get; }

    /// <summary>The identifier as the SCU sent it.</summary>
    public DicomDataset Identifier { get; }

    /// <summary>The identifier parsed (keys, match kinds, ranges): match candidates with <see cref="DicomQuery.Matches"/> or translate it to SQL.</summary>
    public DicomQuery Query { get; }

    public DimsePriority Priority { get; }
    public ushort MessageId { get; }

    /// <summary>The whole command set.</summary>
    public DicomDataset Command { get; }
}

/// <summary>An incoming C-FIND-RQ.</summary>
public sealed class DicomFindRequest : DicomQueryRetrieveRequest
{
    internal DicomFindRequest(DimseRequestContext context, QueryRetrieveInformationModel model, QueryRetrieveLevel level, DicomDataset identifier, DicomQuery query)
        : base(context, model, level, identifier, query) { }

    public override string ToString() => $"C-FIND {Model} {Level.ToCode()} from {CallingAE}: {Query}";
}

/// <summary>An incoming C-MOVE-RQ or C-GET-RQ. The identifier holds unique keys (a list of UIDs at the retrieve level).</summary>
public sealed class DicomRetrieveRequest : DicomQueryRetrieveRequest
{
    internal DicomRetrieveRequest(DimseRequestContext context, QueryRetrieveInformationModel model, QueryRetrieveLevel level, DicomDataset identifier,
        DicomQuery query, QueryRetrieveOperation operation, string? moveDestination)
        : base(context, model, level, identifier, query)
    {
        Operation = operation;
        MoveDestination = moveDestination;
    }

    /// <summary><see cref="QueryRetrieveOperation.Move"/> or <see cref="QueryRetrieveOperation.Get"/>.</summary>
    public QueryRetrieveOperation Operation { get; }

    /// <summary>Move Destination (0000,0600) of a C-MOVE; null for C-GET.</summary>
    public string? MoveDestination { get; }

    public override string ToString() =>
        $"C-{Operation.ToString().ToUpperInvariant()} {Model} {Level.ToCode()} from {CallingAE}{(MoveDestination is { } d ? $" to {d}" : "")}: {Query}";
}

/// <summary>
/// One instance to send as a C-STORE sub-operation: its SOP class, instance and transfer syntax (known before sending, for
/// negotiation), and how to get its content. Content in the negotiated syntax is streamed as is; an uncompressed one is
/// re-encoded among uncompressed syntaxes when the peer accepted only another one.
/// </summary>
public sealed class DicomRetrieveInstance
{
    private readonly Func<CancellationToken, ValueTask<Stream>>? _openPart10;
    private readonly DicomFile? _file;

    private DicomRetrieveInstance(string sopClassUid, string sopInstanceUid, DicomTransferSyntax transferSyntax,
        Func<CancellationToken, ValueTask<Stream>>? openPart10, DicomFile? file)
    {
        SopClassUid = sopClassUid;
        SopInstanceUid = sopInstanceUid;
        TransferSyntax = transferSyntax;
        _openPart10 = openPart10;
        _file = file;
    }

    public string SopClassUid { get; }
    public string SopInstanceUid { get; }
    public DicomTransferSyntax TransferSyntax { get; }

    /// <summary>Part 10 content from wherever the application keeps it (opened when it is sent, disposed after).</summary>
    public static DicomRetrieveInstance FromPart10(string sopClassUid, string sopInstanceUid, DicomTransferSyntax transferSyntax,
        Func<CancellationToken, ValueTask<Stream>> openPart10) => new(sopClassUid, sopInstanceUid, transferSyntax, openPart10, null);

    /// <summary>A Part 10 file on disk; its meta information is read now (or, lacking one, its header).</summary>
    public static async Task<DicomRetrieveInstance> FromFileAsync(string path, CancellationToken ct = default)
    {
        var full = Path.GetFullPath(path);
        DicomFileMeta.Header? header;
        await using (var fs = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.Asynchronous))
            header = await DicomFileMeta.TryReadHeaderAsync(fs, ct).ConfigureAwait(false);
        string sopClass, sopInstance;
        DicomTransferSyntax syntax;
        if (header != null)
        {
            (sopClass, sopInstance, syntax) = (header.SopClassUid, header.SopInstanceUid, header.TransferSyntax);
        }
        else
        {
            var file = DicomFile.Open(full, new DicomReadOptions { StopBeforePixelData = true });
            sopClass = file.Dataset.GetString(DicomTags.SOPClassUID);
            sopInstance = file.Dataset.GetString(DicomTags.SOPInstanceUID);
            syntax = file.TransferSyntax;
        }
        if (sopClass.Length == 0 || sopInstance.Length == 0) throw new DicomNetworkException($"{full} has no SOP Class UID or SOP Instance UID.");
        return new DicomRetrieveInstance(sopClass, sopInstance, syntax,
            _ => ValueTask.FromResult<Stream>(new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1,
                FileOptions.Asynchronous | FileOptions.SequentialScan)), null);
    }

    /// <summary>An in-memory file (encoded in the accepted syntax when sent).</summary>
    public static DicomRetrieveInstance FromFile(DicomFile file)
    {
        var sopClass = file.Dataset.GetString(DicomTags.SOPClassUID);
        var sopInstance = file.Dataset.GetString(DicomTags.SOPInstanceUID);
        if (sopClass.Length == 0 || sopInstance.Length == 0) throw new ArgumentException("The data set has no SOP Class UID or SOP Instance UID.", nameof(file));
        return new DicomRetrieveInstance(sopClass, sopInstance, file.TransferSyntax, null, file);
    }

    /// <summary>Sends this instance as a C-STORE-RQ on <paramref name="association"/>; returns the C-STORE-RSP.</summary>
    public async Task<DimseMessage> StoreAsync(DicomAssociation association, DicomStoreOptions? options, CancellationToken ct)
    {
        if (_file != null) return await association.StoreAsync(_file, options, ct).ConfigureAwait(false);
        var stream = await _openPart10!(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
            return await association.StoreAsync(stream, options, ct).ConfigureAwait(false);
    }

    public override string ToString() => $"{DicomUidRegistry.Lookup(SopClassUid)?.Name ?? SopClassUid} {SopInstanceUid} ({TransferSyntax.Name})";
}
