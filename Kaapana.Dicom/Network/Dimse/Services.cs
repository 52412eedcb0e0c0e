namespace Kaapana.Dicom.Network;

/// <summary>Verification SOP Class (PS3.4 Annex A): C-ECHO, always offered; an <see cref="IEchoHandler"/> may decide the status.</summary>
internal sealed class VerificationService : DimseService
{
    public override IReadOnlyCollection<DimseCommandField> RequestCommandFields { get; } = [DimseCommandField.CEchoRequest];

    public override IEnumerable<string> GetAbstractSyntaxes(IServiceProvider services) => [DicomUids.Verification];

    public override async Task HandleAsync(DimseRequestContext context, CancellationToken ct)
    {
        var status = context.Services.GetService(typeof(IEchoHandler)) is IEchoHandler handler
            ? await handler.EchoAsync(context.Association, ct).ConfigureAwait(false)
            : DicomStatus.Success;
        await context.SendResponseAsync(status, ct: ct).ConfigureAwait(false);
    }
}

/// <summary>
/// Storage Service Class (PS3.4 Annex B): C-STORE to the association's <see cref="IStoreHandler"/>, with the data set streamed.
/// Offers every Storage SOP Class of the registry (or the given list) when a handler is registered; compressed syntaxes are
/// accepted as they are.
/// </summary>
internal sealed class StorageService(IEnumerable<string>? sopClasses = null) : DimseService
{
    private readonly string[] _sopClasses = (sopClasses ?? DicomUidRegistry.StorageSopClasses.Select(u => u.Uid)).Distinct().ToArray();

    public override IReadOnlyCollection<DimseCommandField> RequestCommandFields { get; } = [DimseCommandField.CStoreRequest];

    public override IEnumerable<string> GetAbstractSyntaxes(IServiceProvider services) =>
        services.GetService(typeof(IStoreHandler)) is null ? [] : _sopClasses;

    public override bool AcceptsEncapsulatedTransferSyntaxes => true;

    /// <summary>PS3.4 B.2.3: A7xx "refused: out of resources" is the failure a store that could not be written reports.</summary>
    public override DicomStatus FailureStatus => DicomStatus.OutOfResources;

    public override async Task HandleAsync(DimseRequestContext context, CancellationToken ct)
    {
        if (context.Services.GetService(typeof(IStoreHandler)) is not IStoreHandler handler)
        {
            await context.SendResponseAsync(DicomStatus.SopClassNotSupported, errorComment: "no storage handler", ct: ct).ConfigureAwait(false);
            return;
        }
        if (context.Dataset is null || context.Request.AffectedSopInstanceUid.Length == 0)
        {
            await context.SendResponseAsync(DicomStatus.CannotUnderstand,
                errorComment: context.Dataset is null ? "C-STORE-RQ without a data set" : "no Affected SOP Instance UID", ct: ct).ConfigureAwait(false);
            return;
        }
        var request = new DicomStoreRequest(context.Association, context.Request, context.TransferSyntax, context.Dataset);
        var status = await handler.StoreAsync(request, ct).ConfigureAwait(false);
        var comment = status.IsSuccess || string.IsNullOrEmpty(request.ErrorComment) ? null
            : request.ErrorComment.Length > 64 ? request.ErrorComment[..64] : request.ErrorComment;
        await context.SendResponseAsync(status, errorComment: comment, ct: ct).ConfigureAwait(false);
    }
}
