using Microsoft.Extensions.Logging;

namespace Kaapana.Dicom.Network;

// ==================================================================================================================
// DIMSE service dispatch: how an incoming request reaches application code, and how to add a service.
//
//   read loop (DicomAssociation)                 dispatcher (this file)                 service              handler
//   ───────────────────────────                  ──────────────────────                 ───────              ───────
//   command set complete ──► DimseRequestContext ─► registry.Find(command field) ─► DimseService.HandleAsync ─► IXxxHandler
//   data set PDVs ─────────► ctx.Dataset (a pipe, fed as PDVs arrive, back-pressured)
//   C-CANCEL-RQ ───────────► cancels the CancellationToken given to HandleAsync of the operation it names
//
// * A service is a subclass of DimseService. It declares the request command fields it serves
//   (RequestCommandFields), the abstract syntaxes it can accept (GetAbstractSyntaxes, asked once per association
//   with that association's service scope, so a service offers its SOP classes only when its handler interface
//   is registered), and whether compressed transfer syntaxes are acceptable for them.
// * The registry maps command field -> service. DicomServer and DicomClient take a DimseServiceRegistry;
//   DimseServiceRegistry.CreateDefault builds the built-in set. Each command field has at most one service.
// * HandleAsync runs on its own task, concurrently with the read loop. It reads ctx.Dataset if the request has
//   one (ctx.ReadDatasetAsync for small identifiers), calls its handler, and answers with ctx.SendResponseAsync:
//   any number of pending responses (status FF00/FF01), then exactly one final response. Responses wait until the
//   request has been received completely, so a handler may answer before reading all of a data set it refuses.
// * The dispatcher (RunAsync below) guarantees a final response whatever happens: no service for the command field
//   -> 0211 "unrecognized operation"; SOP class in the command differs from the presentation context -> 0122;
//   exception -> the service's FailureStatus (with the message as Error Comment); cancellation by C-CANCEL -> FE00.
//
// Adding C-FIND/C-MOVE/C-GET (Network/Query):
//   1. Define the handler interface, e.g.
//        public interface IFindHandler { IAsyncEnumerable<DicomDataset> FindAsync(DicomFindRequest r, CancellationToken ct); }
//   2. Write `internal sealed class FindService : DimseService` with RequestCommandFields = [CFindRequest],
//      GetAbstractSyntaxes returning the Q/R FIND models when services.GetService(typeof(IFindHandler)) is not null,
//      and HandleAsync: var id = await ctx.ReadDatasetAsync(ct); await foreach (var m in handler.FindAsync(..., ct))
//      await ctx.SendResponseAsync(DicomStatus.Pending, m, ct: ct); then await ctx.SendResponseAsync(DicomStatus.Success).
//      A cancelled token (C-CANCEL) ends the loop; the dispatcher then sends FE00 if no final response went out.
//   3. Register it: add `registry.Add(new FindService());` to DimseServiceRegistry.CreateDefault (or pass a registry
//      with it to DicomServer). C-MOVE opens its own DicomClient association to the destination; C-GET sends C-STORE
//      sub-operations on ctx.Association (StoreFileAsync picks a context where the requestor took the SCP role); a
//      C-GET service overrides UsesStorageSubOperations so those storage contexts are accepted.
// ==================================================================================================================

/// <summary>A DIMSE service: serves some request command fields for some abstract syntaxes. See the comment at the top of this file.</summary>
public abstract class DimseService
{
    /// <summary>The request command fields this service handles (e.g. C-STORE-RQ).</summary>
    public abstract IReadOnlyCollection<DimseCommandField> RequestCommandFields { get; }

    /// <summary>Abstract syntaxes to accept in negotiation, given the association's services (empty when the handler is absent).</summary>
    public abstract IEnumerable<string> GetAbstractSyntaxes(IServiceProvider services);

    /// <summary>Whether encapsulated (compressed) transfer syntaxes may be accepted as-is for this service's abstract syntaxes.</summary>
    public virtual bool AcceptsEncapsulatedTransferSyntaxes => false;

    /// <summary>
    /// True for services that send C-STORE sub-operations back on the same association (C-GET): while such a service is
    /// offered, storage SOP classes the requestor proposes with the SCP role (role selection) are accepted even when this
    /// side has no <see cref="IStoreHandler"/> of its own.
    /// </summary>
    public virtual bool UsesStorageSubOperations => false;

    /// <summary>Status sent when <see cref="HandleAsync"/> throws before a final response (PS3.4 lets each service choose).</summary>
    public virtual DicomStatus FailureStatus => DicomStatus.ProcessingFailure;

    /// <summary>Serves one request; must send exactly one final response through <paramref name="context"/>.</summary>
    public abstract Task HandleAsync(DimseRequestContext context, CancellationToken ct);
}

/// <summary>Command field → service. Built once and shared by every association of a server or client.</summary>
public sealed class DimseServiceRegistry
{
    private readonly Dictionary<DimseCommandField, DimseService> _byField = [];
    private readonly List<DimseService> _services = [];

    /// <summary>Verification (C-ECHO) and Storage (C-STORE, for <paramref name="storageSopClasses"/> or every registered Storage SOP class).</summary>
    public static DimseServiceRegistry CreateDefault(IEnumerable<string>? storageSopClasses = null)
    {
        var registry = new DimseServiceRegistry();
        registry.Add(new VerificationService());
        registry.Add(new StorageService(storageSopClasses));
        // Query/Retrieve (Network/Query): each offers its SOP classes only when its handler (IFindHandler, IMoveHandler, IGetHandler) is registered.
        registry.Add(new Query.FindService());
        registry.Add(new Query.MoveService());
        registry.Add(new Query.GetService());
        return registry;
    }

    public IReadOnlyList<DimseService> Services => _services;

    /// <summary>Adds a service; a command field already served by another service is an error.</summary>
    public DimseServiceRegistry Add(DimseService service)
    {
        foreach (var f in service.RequestCommandFields)
            if (_byField.TryGetValue(f, out var existing))
                throw new InvalidOperationException($"{f} is already served by {existing.GetType().Name}.");
        foreach (var f in service.RequestCommandFields) _byField[f] = service;
        _services.Add(service);
        return this;
    }

    /// <summary>Replaces whatever serves the same command fields (e.g. a custom storage service).</summary>
    public DimseServiceRegistry Replace(DimseService service)
    {
        foreach (var f in service.RequestCommandFields)
            if (_byField.Remove(f, out var old)) _services.Remove(old);
        return Add(service);
    }

    public DimseService? Find(DimseCommandField field) => _byField.GetValueOrDefault(field);
}

/// <summary>What a service gets for one incoming request.</summary>
public sealed class DimseRequestContext
{
    private readonly Func<Task> _requestReceived;
    private int _finalSent;

    internal DimseRequestContext(DicomAssociation association, DimseMessage request, DicomPresentationContext presentationContext,
        Stream? dataset, IServiceProvider services, ILogger logger, Func<Task> requestReceived)
    {
        Association = association;
        Request = request;
        PresentationContext = presentationContext;
        Dataset = dataset;
        Services = services;
        Logger = logger;
        _requestReceived = requestReceived;
    }

    public DicomAssociation Association { get; }
    public DimseMessage Request { get; }
    public DicomPresentationContext PresentationContext { get; }
    public DicomTransferSyntax TransferSyntax => PresentationContext.TransferSyntax!;

    /// <summary>The request's data set as it arrives (null when the command says there is none). Forward-only, read once.</summary>
    public Stream? Dataset { get; }

    /// <summary>The association's service scope: resolve handlers here.</summary>
    public IServiceProvider Services { get; }
    public ILogger Logger { get; }

    public bool FinalResponseSent => Volatile.Read(ref _finalSent) != 0;

    /// <summary>Reads the whole (small) data set into memory and decodes it, e.g. a C-FIND identifier. Null when there is none.</summary>
    public async ValueTask<DicomDataset?> ReadDatasetAsync(long maxLength = 16 * 1024 * 1024, CancellationToken ct = default)
    {
        if (Dataset is null) return null;
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        while (true)
        {
            int n = await Dataset.ReadAsync(chunk, ct).ConfigureAwait(false);
            if (n == 0) break;
            if (buffer.Length + n > maxLength) throw new DicomNetworkException($"Request data set exceeds {maxLength} bytes.");
            buffer.Write(chunk, 0, n);
        }
        buffer.Position = 0;
        return DicomReader.ReadDataset(buffer, TransferSyntax);
    }

    /// <summary>Sends a response command (build it with <see cref="DimseCommand.CreateResponse"/>) and optional data set.</summary>
    public async Task SendResponseAsync(DicomDataset command, DimseDataset? dataset = null, CancellationToken ct = default)
    {
        var status = new DicomStatus(command.GetOrDefault<ushort>(DicomTags.Status, 0));
        if (status.IsFinal && Interlocked.Exchange(ref _finalSent, 1) != 0)
            throw new InvalidOperationException($"A final response to message {Request.MessageId} was already sent.");
        await _requestReceived().ConfigureAwait(false);
        command.Set<ushort>(DicomTags.CommandDataSetType, DicomVR.US, dataset is null ? DimseCommand.NoDataSet : DimseCommand.DataSetPresent);
        await Association.SendMessageAsync(PresentationContext.Id, command, dataset, ct).ConfigureAwait(false);
    }

    /// <summary>Sends a response with <paramref name="status"/> built from the request, with an optional data set (e.g. a C-FIND match).</summary>
    public Task SendResponseAsync(DicomStatus status, DicomDataset? dataset = null, string? errorComment = null, CancellationToken ct = default) =>
        SendResponseAsync(DimseCommand.CreateResponse(Request.Command, status, dataset != null, errorComment),
            dataset is null ? null : DimseDataset.FromDataset(dataset), ct);
}

/// <summary>Runs one request through its service and guarantees a final response (see the comment at the top of this file).</summary>
internal static class DimseDispatcher
{
    public static async Task RunAsync(DimseServiceRegistry registry, DimseRequestContext ctx, CancellationToken ct)
    {
        var request = ctx.Request;
        var service = registry.Find(request.CommandField);
        try
        {
            if (service is null)
            {
                await ctx.SendResponseAsync(DicomStatus.UnrecognizedOperation, errorComment: $"{request.CommandField} is not supported", ct: ct).ConfigureAwait(false);
                return;
            }
            var sopClass = request.AffectedSopClassUid;
            if (sopClass.Length == 0) sopClass = request.Command.GetString(DicomTags.RequestedSOPClassUID);
            if (sopClass.Length > 0 && sopClass != ctx.PresentationContext.AbstractSyntax)
            {
                await ctx.SendResponseAsync(DicomStatus.SopClassNotSupported,
                    errorComment: "SOP class differs from the presentation context", ct: ct).ConfigureAwait(false);
                return;
            }
            await service.HandleAsync(ctx, ct).ConfigureAwait(false);
            if (!ctx.FinalResponseSent)
            {
                ctx.Logger.LogWarning("Association #{Id}: {Service} sent no final response to {Request}", ctx.Association.Id, service.GetType().Name, request);
                await ctx.SendResponseAsync(service.FailureStatus, errorComment: "no response from the service", ct: ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            if (!ctx.Association.IsOpen || ctx.FinalResponseSent)
            {
                ctx.Logger.LogDebug(ex, "Association #{Id}: {Request} ended with {Error}", ctx.Association.Id, request, ex.GetType().Name);
            }
            else if (ex is OperationCanceledException && ct.IsCancellationRequested)
            {
                // C-CANCEL: the operation ends with status Cancel.
                await TrySendFinalAsync(ctx, DicomStatus.Cancel, null).ConfigureAwait(false);
            }
            else
            {
                var status = service?.FailureStatus ?? DicomStatus.ProcessingFailure;
                ctx.Logger.LogError(ex, "Association #{Id}: {Request} failed; answering {Status}", ctx.Association.Id, request, status);
                await TrySendFinalAsync(ctx, status, ex.Message).ConfigureAwait(false);
            }
        }
        finally
        {
            // Whatever the service left unread is discarded by the read loop from now on.
            if (ctx.Dataset is { } ds) await ds.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task TrySendFinalAsync(DimseRequestContext ctx, DicomStatus status, string? comment)
    {
        try
        {
            await ctx.SendResponseAsync(status, errorComment: comment, ct: ctx.Association.Closing).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DicomException or OperationCanceledException or InvalidOperationException)
        {
            ctx.Logger.LogDebug(ex, "Association #{Id}: could not send the final response", ctx.Association.Id);
        }
    }
}
