using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Kaapana.Dicom.Network.Query;

/// <summary>
/// Query/Retrieve C-FIND SCP (PS3.4 C.4.1) for Patient Root and Study Root, offered when an <see cref="IFindHandler"/> is
/// registered. Checks the identifier against the model (A900 with Offending Element when it does not fit), parses it into a
/// <see cref="DicomQuery"/>, streams one pending response per match (reduced to the requested keys) and ends with Success;
/// C-CANCEL stops the enumeration and ends with Cancel.
/// </summary>
internal sealed class FindService : DimseService
{
    public override IReadOnlyCollection<DimseCommandField> RequestCommandFields { get; } = [DimseCommandField.CFindRequest];

    public override IEnumerable<string> GetAbstractSyntaxes(IServiceProvider services) =>
        services.GetService(typeof(IFindHandler)) is null ? [] : QueryRetrieveInformationModel.SopClassUids(QueryRetrieveOperation.Find);

    public override DicomStatus FailureStatus => DicomStatus.UnableToProcess;

    public override async Task HandleAsync(DimseRequestContext context, CancellationToken ct)
    {
        if (context.Services.GetService(typeof(IFindHandler)) is not IFindHandler handler)
        {
            await context.SendResponseAsync(DicomStatus.SopClassNotSupported, errorComment: "no C-FIND handler", ct: ct).ConfigureAwait(false);
            return;
        }
        var parsed = await QueryRetrieveRequestReader.ReadAsync(context, QueryRetrieveOperation.Find, ct).ConfigureAwait(false);
        if (parsed is null) return;
        var request = new DicomFindRequest(context, parsed.Model, parsed.Level, parsed.Identifier, parsed.Query);
        // FF01: "one or more optional keys were not supported": keys the options exclude, and return keys of lower levels
        // (answered empty, since a record of this level has no single value for them).
        var pending = parsed.HasUnsupportedKeys || parsed.Unanswerable.Count > 0 ? DicomStatus.PendingWarning : DicomStatus.Pending;
        // Responses are sent with the association's lifetime token: a C-CANCEL arriving while a response is being written must
        // not cut it in half (that aborts the association); it is honoured between matches.
        var send = context.Association.Closing;
        int count = 0;
        await foreach (var match in handler.FindAsync(request, ct).WithCancellation(ct).ConfigureAwait(false))
        {
            ct.ThrowIfCancellationRequested();
            var response = request.Query.CreateResponse(match);
            foreach (var tag in parsed.Unanswerable) response.SetEmpty(tag, parsed.Identifier[tag].VR);
            await context.SendResponseAsync(pending, response, ct: send).ConfigureAwait(false);
            count++;
        }
        ct.ThrowIfCancellationRequested();
        context.Logger.LogDebug("Association #{Id}: {Request}: {Count} match(es)", context.Association.Id, request, count);
        await context.SendResponseAsync(DicomStatus.Success, ct: send).ConfigureAwait(false);
    }
}

/// <summary>
/// Query/Retrieve C-MOVE SCP (PS3.4 C.4.2), offered when an <see cref="IMoveHandler"/> is registered: resolves the destination
/// (A801 when unknown) and the instances, opens a sub-association to the destination (as our called AE title) and sends the
/// C-STORE sub-operations with Move Originator AE/Message ID, reporting pending counts after each.
/// </summary>
internal sealed class MoveService : DimseService
{
    public override IReadOnlyCollection<DimseCommandField> RequestCommandFields { get; } = [DimseCommandField.CMoveRequest];

    public override IEnumerable<string> GetAbstractSyntaxes(IServiceProvider services) =>
        services.GetService(typeof(IMoveHandler)) is null ? [] : QueryRetrieveInformationModel.SopClassUids(QueryRetrieveOperation.Move);

    public override DicomStatus FailureStatus => DicomStatus.UnableToProcess;

    public override async Task HandleAsync(DimseRequestContext context, CancellationToken ct)
    {
        if (context.Services.GetService(typeof(IMoveHandler)) is not IMoveHandler handler)
        {
            await context.SendResponseAsync(DicomStatus.SopClassNotSupported, errorComment: "no C-MOVE handler", ct: ct).ConfigureAwait(false);
            return;
        }
        var parsed = await QueryRetrieveRequestReader.ReadAsync(context, QueryRetrieveOperation.Move, ct).ConfigureAwait(false);
        if (parsed is null) return;
        var destinationAE = context.Request.Command.GetString(DicomTags.MoveDestination).Trim();
        var request = new DicomRetrieveRequest(context, parsed.Model, parsed.Level, parsed.Identifier, parsed.Query, QueryRetrieveOperation.Move, destinationAE);
        var destination = destinationAE.Length == 0 ? null : await handler.ResolveDestinationAsync(destinationAE, request, ct).ConfigureAwait(false);
        if (destination is null)
        {
            await context.SendResponseAsync(DicomStatus.MoveDestinationUnknown,
                errorComment: destinationAE.Length == 0 ? "no Move Destination" : $"unknown destination {destinationAE}", ct: ct).ConfigureAwait(false);
            return;
        }
        var instances = await RetrieveSubOperations.CollectAsync(handler.GetInstancesAsync(request, ct), ct).ConfigureAwait(false);
        context.Logger.LogInformation("Association #{Id}: {Request}: {Count} instance(s) to {Destination}",
            context.Association.Id, request, instances.Count, destination);
        var options = QueryRetrieveRequestReader.Options(context);
        await using var sender = new MoveSubAssociations(context, destination, instances, options);
        await RetrieveSubOperations.RunAsync(context, instances, sender.StoreAsync, () => !sender.AnyConnected, ct).ConfigureAwait(false);
    }
}

/// <summary>
/// Query/Retrieve C-GET SCP (PS3.4 C.4.3), offered when an <see cref="IGetHandler"/> is registered, together with every Storage
/// SOP Class (the requestor proposes those with the SCP role for the sub-operations). Instances go back as C-STORE-RQ on the
/// same association; one the requestor has no SCP-role context for fails as a sub-operation.
/// </summary>
internal sealed class GetService : DimseService
{
    public override IReadOnlyCollection<DimseCommandField> RequestCommandFields { get; } = [DimseCommandField.CGetRequest];

    // Only the GET models: storage contexts for the sub-operations are accepted by the negotiator when the requestor
    // asks for the SCP role (UsesStorageSubOperations), so a GET handler never opens the door to plain C-STOREs.
    public override IEnumerable<string> GetAbstractSyntaxes(IServiceProvider services) =>
        services.GetService(typeof(IGetHandler)) is null
            ? []
            : QueryRetrieveInformationModel.SopClassUids(QueryRetrieveOperation.Get);

    public override bool UsesStorageSubOperations => true;

    /// <summary>Sub-operations send instances as stored, compressed ones included, when the requestor accepts that.</summary>
    public override bool AcceptsEncapsulatedTransferSyntaxes => true;

    public override DicomStatus FailureStatus => DicomStatus.UnableToProcess;

    public override async Task HandleAsync(DimseRequestContext context, CancellationToken ct)
    {
        if (context.Services.GetService(typeof(IGetHandler)) is not IGetHandler handler)
        {
            await context.SendResponseAsync(DicomStatus.SopClassNotSupported, errorComment: "no C-GET handler", ct: ct).ConfigureAwait(false);
            return;
        }
        var parsed = await QueryRetrieveRequestReader.ReadAsync(context, QueryRetrieveOperation.Get, ct).ConfigureAwait(false);
        if (parsed is null) return;
        var request = new DicomRetrieveRequest(context, parsed.Model, parsed.Level, parsed.Identifier, parsed.Query, QueryRetrieveOperation.Get, null);
        var instances = await RetrieveSubOperations.CollectAsync(handler.GetInstancesAsync(request, ct), ct).ConfigureAwait(false);
        context.Logger.LogInformation("Association #{Id}: {Request}: {Count} instance(s)", context.Association.Id, request, instances.Count);
        var options = QueryRetrieveRequestReader.Options(context);
        var storeOptions = new DicomStoreOptions(request.Priority);
        await RetrieveSubOperations.RunAsync(context, instances, async (_, instance, token) =>
        {
            // The requestor may never answer a C-STORE-RQ; the server has no response timeout of its own.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(options.SubOperationResponseTimeout);
            try
            {
                return await instance.StoreAsync(context.Association, storeOptions, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!token.IsCancellationRequested)
            {
                throw new DicomNetworkException($"no C-STORE-RSP within {options.SubOperationResponseTimeout.TotalSeconds:0} s", ex);
            }
        }, () => false, ct).ConfigureAwait(false);
    }
}

/// <summary>Reads and checks the identifier of a Q/R request; answers the failure itself and returns null when it is unusable.</summary>
internal static class QueryRetrieveRequestReader
{
    /// <param name="Unanswerable">Return keys of levels below the query level: answered with zero length.</param>
    public sealed record Parsed(QueryRetrieveInformationModel Model, QueryRetrieveLevel Level, DicomDataset Identifier, DicomQuery Query,
        bool HasUnsupportedKeys, IReadOnlyList<DicomTag> Unanswerable);

    public static DicomQueryRetrieveOptions Options(DimseRequestContext context) =>
        context.Services.GetService(typeof(DicomQueryRetrieveOptions)) as DicomQueryRetrieveOptions ?? DicomQueryRetrieveOptions.Default;

    public static async Task<Parsed?> ReadAsync(DimseRequestContext context, QueryRetrieveOperation operation, CancellationToken ct)
    {
        if (!QueryRetrieveInformationModel.TryFromSopClassUid(context.PresentationContext.AbstractSyntax, out var model, out var op) || op != operation)
        {
            await context.SendResponseAsync(DicomStatus.SopClassNotSupported, errorComment: "not a Q/R model of this operation", ct: ct).ConfigureAwait(false);
            return null;
        }
        DicomDataset? identifier;
        try
        {
            identifier = await context.ReadDatasetAsync(ct: ct).ConfigureAwait(false);
        }
        catch (DicomException ex) when (ex is DicomFormatException or DicomValueException || (ex is DicomNetworkException && context.Association.IsOpen))
        {
            await RejectAsync(context, DicomStatus.UnableToProcess, [], $"identifier cannot be decoded: {ex.Message}", ct).ConfigureAwait(false);
            return null;
        }
        if (identifier is null)
        {
            await RejectAsync(context, DicomStatus.IdentifierDoesNotMatchSopClass, [], "no identifier", ct).ConfigureAwait(false);
            return null;
        }
        var options = Options(context);
        var problems = model.Validate(identifier, operation, options.AllowRelationalQueries);
        var errors = problems.Where(p => p.Severity == QueryProblemSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            context.Logger.LogInformation("Association #{Id}: {Operation} identifier refused: {Problems}", context.Association.Id, operation,
                string.Join("; ", errors.Select(e => e.Message)));
            await RejectAsync(context, DicomStatus.IdentifierDoesNotMatchSopClass, errors.Select(e => e.Tag).Distinct().ToArray(), errors[0].Message, ct)
                .ConfigureAwait(false);
            return null;
        }
        DicomQuery query;
        try
        {
            query = DicomQuery.Parse(identifier, options.MatchOptions);
        }
        catch (DicomQueryException ex)
        {
            await RejectAsync(context, DicomStatus.IdentifierDoesNotMatchSopClass, ex.Tag is { } t ? [t] : [], ex.Message, ct).ConfigureAwait(false);
            return null;
        }
        var supported = options.MatchOptions.IsKeySupported;
        bool unsupported = supported != null && query.Keys.Any(k => !supported(k.Tag) && identifier.GetValueCount(k.Tag) > 0);
        var level = query.Level!.Value;
        var unanswerable = operation == QueryRetrieveOperation.Find
            ? problems.Where(p => p.Severity == QueryProblemSeverity.Warning && model.GetLevelOf(p.Tag) > level).Select(p => p.Tag).ToArray()
            : [];
        return new Parsed(model, level, identifier, query, unsupported, unanswerable);
    }

    private static async Task RejectAsync(DimseRequestContext context, DicomStatus status, DicomTag[] offending, string comment, CancellationToken ct)
    {
        var command = DimseCommand.CreateResponse(context.Request.Command, status, hasDataSet: false, errorComment: comment);
        if (offending.Length > 0) command.Set(DicomTags.OffendingElement, DicomVR.AT, offending);
        await context.SendResponseAsync(command, null, ct).ConfigureAwait(false);
    }
}

/// <summary>The C-STORE sub-operations of a C-MOVE or C-GET: counting, pending responses, final status (PS3.4 C.4.2.3, C.4.3.3).</summary>
internal static class RetrieveSubOperations
{
    public static async Task<IReadOnlyList<DicomRetrieveInstance>> CollectAsync(IAsyncEnumerable<DicomRetrieveInstance> source, CancellationToken ct)
    {
        var list = new List<DicomRetrieveInstance>();
        await foreach (var i in source.WithCancellation(ct).ConfigureAwait(false)) list.Add(i);
        return list;
    }

    /// <param name="store">Sends instance <c>i</c>; a thrown <see cref="DicomException"/> or I/O error counts as a failed sub-operation.</param>
    /// <param name="unableToPerform">Asked when nothing succeeded: true makes the final status A702 instead of B000.</param>
    /// <param name="cancel">Cancelled by C-CANCEL-RQ: no further sub-operation starts, the final status is Cancel.</param>
    public static async Task RunAsync(DimseRequestContext context, IReadOnlyList<DicomRetrieveInstance> instances,
        Func<int, DicomRetrieveInstance, CancellationToken, Task<DimseMessage>> store, Func<bool> unableToPerform, CancellationToken cancel)
    {
        int remaining = instances.Count, completed = 0, failed = 0, warning = 0;
        var failedUids = new List<string>();
        // Sub-operations and responses run to their end once started (see FindService); C-CANCEL is checked between them.
        var send = context.Association.Closing;
        for (int i = 0; i < instances.Count; i++)
        {
            if (!context.Association.IsOpen) return;
            if (cancel.IsCancellationRequested)
            {
                await SendAsync(context, DicomStatus.Cancel, remaining, completed, failed, warning, failedUids, send).ConfigureAwait(false);
                return;
            }
            var instance = instances[i];
            try
            {
                var rsp = await store(i, instance, send).ConfigureAwait(false);
                if (rsp.Status.IsSuccess) completed++;
                else if (rsp.Status.IsWarning) warning++;
                else
                {
                    failed++;
                    failedUids.Add(instance.SopInstanceUid);
                    context.Logger.LogWarning("Association #{Id}: sub-operation C-STORE of {Instance}: {Status} {Comment}",
                        context.Association.Id, instance.SopInstanceUid, rsp.Status, rsp.ErrorComment);
                }
            }
            catch (Exception ex) when (ex is DicomException or IOException or UnauthorizedAccessException or SocketException)
            {
                failed++;
                failedUids.Add(instance.SopInstanceUid);
                context.Logger.LogWarning("Association #{Id}: sub-operation C-STORE of {Instance} failed: {Error}",
                    context.Association.Id, instance.SopInstanceUid, ex.Message);
            }
            remaining--;
            if (remaining > 0 && !cancel.IsCancellationRequested)
                await SendAsync(context, DicomStatus.Pending, remaining, completed, failed, warning, null, send).ConfigureAwait(false);
        }
        var status = failed + warning == 0 ? DicomStatus.Success
            : completed + warning == 0 && unableToPerform() ? DicomStatus.OutOfResourcesUnableToPerformSubOperations
            : DicomStatus.SubOperationsCompleteWithFailures;
        await SendAsync(context, status, null, completed, failed, warning, failedUids, send).ConfigureAwait(false);
    }

    private static async Task SendAsync(DimseRequestContext context, DicomStatus status, int? remaining, int completed, int failed, int warning,
        List<string>? failedUids, CancellationToken ct)
    {
        DicomDataset? identifier = null;
        if (failedUids is { Count: > 0 })
            identifier = new DicomDataset().Set(DicomTags.FailedSOPInstanceUIDList, DicomVR.UI, failedUids.ToArray());
        var command = DimseCommand.CreateResponse(context.Request.Command, status, identifier != null,
            status.IsFailure || status.IsWarning ? $"{failed} of {completed + failed + warning} sub-operations failed" : null);
        // Counts are US: an enormous retrieve reports saturated numbers rather than wrapping around.
        static ushort Us(int n) => (ushort)Math.Min(n, ushort.MaxValue);
        if (remaining is { } r) command.Set(DicomTags.NumberOfRemainingSuboperations, DicomVR.US, Us(r));
        command.Set(DicomTags.NumberOfCompletedSuboperations, DicomVR.US, Us(completed));
        command.Set(DicomTags.NumberOfFailedSuboperations, DicomVR.US, Us(failed));
        command.Set(DicomTags.NumberOfWarningSuboperations, DicomVR.US, Us(warning));
        await context.SendResponseAsync(command, identifier is null ? null : DimseDataset.FromDataset(identifier), ct).ConfigureAwait(false);
    }
}

/// <summary>
/// The associations a C-MOVE sends its sub-operations on: one per batch of instances whose (SOP class, transfer syntax) pairs fit
/// in 128 presentation contexts, opened when the batch starts. A batch whose association cannot be opened fails instance by instance.
/// </summary>
internal sealed class MoveSubAssociations : IAsyncDisposable
{
    private readonly DimseRequestContext _context;
    private readonly DicomApplicationEntity _destination;
    private readonly DicomClient _client;
    private readonly int[] _batchOf;
    private readonly List<List<(string SopClass, string Syntax)>> _batches = [];
    private readonly DicomStoreOptions _storeOptions;
    private int _currentBatch = -1;
    private DicomAssociation? _association;
    private Exception? _connectError;

    public MoveSubAssociations(DimseRequestContext context, DicomApplicationEntity destination, IReadOnlyList<DicomRetrieveInstance> instances,
        DicomQueryRetrieveOptions options)
    {
        _context = context;
        _destination = destination;
        _client = new DicomClient(new DicomClientOptions
        {
            Host = destination.Host,
            Port = destination.Port,
            CallingAE = context.Association.CalledAE,
            CalledAE = destination.AETitle,
            ConnectTimeout = options.MoveConnectTimeout,
            AssociationTimeout = options.MoveConnectTimeout,
            ResponseTimeout = options.SubOperationResponseTimeout,
            MaxPduLength = options.MoveMaxPduLength,
        });
        _storeOptions = new DicomStoreOptions((DimsePriority)context.Request.Command.GetOrDefault<ushort>(DicomTags.Priority, 0),
            context.Association.CallingAE, context.Request.MessageId);
        _batchOf = new int[instances.Count];
        for (int i = 0; i < instances.Count; i++)
        {
            var pair = (instances[i].SopClassUid, instances[i].TransferSyntax.Uid);
            if (_batches.Count == 0 || (!_batches[^1].Contains(pair) && _batches[^1].Count == DicomClient.MaxPresentationContexts)) _batches.Add([]);
            if (!_batches[^1].Contains(pair)) _batches[^1].Add(pair);
            _batchOf[i] = _batches.Count - 1;
        }
    }

    /// <summary>True once an association to the destination was established.</summary>
    public bool AnyConnected { get; private set; }

    public async Task<DimseMessage> StoreAsync(int index, DicomRetrieveInstance instance, CancellationToken ct)
    {
        if (_batchOf[index] != _currentBatch) await OpenBatchAsync(_batchOf[index], ct).ConfigureAwait(false);
        if (_association is null) throw new DicomNetworkException($"Cannot associate with {_destination}: {_connectError?.Message}", _connectError);
        return await instance.StoreAsync(_association, _storeOptions, ct).ConfigureAwait(false);
    }

    private async Task OpenBatchAsync(int batch, CancellationToken ct)
    {
        await CloseAsync().ConfigureAwait(false);
        _currentBatch = batch;
        var contexts = _batches[batch].Select(p => new DicomPresentationContextRequest(p.SopClass,
            new[] { p.Syntax }.Concat(DicomPresentationContextRequest.UncompressedTransferSyntaxes).Distinct().ToArray())).ToList();
        try
        {
            _association = await _client.ConnectAsync(contexts, ct: ct).ConfigureAwait(false);
            AnyConnected = true;
        }
        catch (DicomException ex)
        {
            _connectError = ex;
            _context.Logger.LogWarning("Association #{Id}: C-MOVE cannot associate with {Destination}: {Error}", _context.Association.Id, _destination, ex.Message);
        }
    }

    private async Task CloseAsync()
    {
        var a = _association;
        _association = null;
        if (a is null) return;
        try
        {
            await a.DisposeAsync().ConfigureAwait(false); // releases
        }
        catch (DicomException ex)
        {
            _context.Logger.LogDebug(ex, "Releasing the C-MOVE sub-association to {Destination} failed", _destination);
        }
    }

    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);
}
