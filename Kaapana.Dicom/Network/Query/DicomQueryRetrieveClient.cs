using System.Runtime.CompilerServices;

namespace Kaapana.Dicom.Network.Query;

/// <summary>One C-MOVE or C-GET response: status and sub-operation counts; the final one may list the failed instances.</summary>
public sealed record DicomRetrieveProgress(DicomStatus Status, int? Remaining, int Completed, int Failed, int Warning,
    IReadOnlyList<string> FailedSopInstanceUids, string ErrorComment)
{
    /// <summary>The last response of the operation (anything but pending).</summary>
    public bool IsFinal => Status.IsFinal;

    internal static DicomRetrieveProgress From(DimseMessage rsp)
    {
        int? Count(DicomTag tag) => rsp.Command.TryGet<int>(tag, out var n) ? n : null;
        var failed = rsp.Dataset?.GetStrings(DicomTags.FailedSOPInstanceUIDList).Where(u => u.Length > 0).ToArray() ?? [];
        return new DicomRetrieveProgress(rsp.Status, Count(DicomTags.NumberOfRemainingSuboperations),
            Count(DicomTags.NumberOfCompletedSuboperations) ?? 0, Count(DicomTags.NumberOfFailedSuboperations) ?? 0,
            Count(DicomTags.NumberOfWarningSuboperations) ?? 0, failed, rsp.ErrorComment);
    }

    public override string ToString() =>
        $"{Status}: {Completed} completed, {Failed} failed, {Warning} warning{(Remaining is { } r ? $", {r} remaining" : "")}";
}

/// <summary>The peer ended a request with a failure status.</summary>
public sealed class DicomRequestFailedException(DicomStatus status, string errorComment, IReadOnlyList<DicomTag> offendingElements)
    : DicomNetworkException($"The peer answered {status}{(errorComment.Length > 0 ? $": {errorComment}" : "")}"
        + (offendingElements.Count > 0 ? $" (offending: {string.Join(", ", offendingElements)})" : ""))
{
    public DicomStatus Status { get; } = status;
    public string ErrorComment { get; } = errorComment;
    public IReadOnlyList<DicomTag> OffendingElements { get; } = offendingElements;
}

/// <summary>Receives the C-STORE sub-operations of a C-GET: read <see cref="DicomStoreRequest.Dataset"/> and return a status.</summary>
public delegate ValueTask<DicomStatus> DicomStoreCallback(DicomStoreRequest request, CancellationToken ct);

/// <summary>What a <see cref="DicomQueryRetrieveClient.GetAsync(DicomClient, QueryRetrieveInformationModel, QueryRetrieveLevel, DicomDataset, DicomStoreCallback, DicomGetOptions?, CancellationToken)"/> proposes.</summary>
public sealed record DicomGetOptions
{
    public static DicomGetOptions Default { get; } = new();

    /// <summary>Storage SOP classes to take the SCP role for (one presentation context each; at most 127).</summary>
    public IReadOnlyList<string> StorageSopClasses { get; init; } = DicomQueryRetrieveClient.CommonStorageSopClasses;

    /// <summary>Transfer syntaxes proposed for each storage context, in order of preference.</summary>
    public IReadOnlyList<string> TransferSyntaxes { get; init; } = DicomPresentationContextRequest.UncompressedTransferSyntaxes;

    public DimsePriority Priority { get; init; } = DimsePriority.Medium;
}

/// <summary>
/// Query/Retrieve SCU: C-FIND, C-MOVE and C-GET on an open <see cref="DicomAssociation"/>, or on a <see cref="DicomClient"/> (connect,
/// operate, release). Responses stream as they arrive. Cancelling the token sends C-CANCEL-RQ; so does leaving the enumeration early.
/// </summary>
public static class DicomQueryRetrieveClient
{
    /// <summary>Storage SOP classes a C-GET proposes by default: the common image, SR, RT, SEG, PR and PDF classes.</summary>
    public static IReadOnlyList<string> CommonStorageSopClasses { get; } =
    [
        DicomUids.CTImageStorage, DicomUids.EnhancedCTImageStorage, DicomUids.LegacyConvertedEnhancedCTImageStorage,
        DicomUids.MRImageStorage, DicomUids.EnhancedMRImageStorage, DicomUids.MRSpectroscopyStorage,
        DicomUids.UltrasoundImageStorage, DicomUids.UltrasoundMultiFrameImageStorage, DicomUids.ComputedRadiographyImageStorage,
        DicomUids.DigitalXRayImageStorageForPresentation, DicomUids.DigitalXRayImageStorageForProcessing,
        DicomUids.DigitalMammographyXRayImageStorageForPresentation, DicomUids.DigitalIntraOralXRayImageStorageForPresentation,
        DicomUids.BreastTomosynthesisImageStorage, DicomUids.XRayAngiographicImageStorage, DicomUids.EnhancedXAImageStorage,
        DicomUids.XRayRadiofluoroscopicImageStorage, DicomUids.XRay3DAngiographicImageStorage, DicomUids.NuclearMedicineImageStorage,
        DicomUids.PositronEmissionTomographyImageStorage, DicomUids.EnhancedPETImageStorage, DicomUids.SecondaryCaptureImageStorage,
        DicomUids.MultiFrameGrayscaleByteSecondaryCaptureImageStorage, DicomUids.MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
        DicomUids.MultiFrameTrueColorSecondaryCaptureImageStorage, DicomUids.VLPhotographicImageStorage,
        DicomUids.VLWholeSlideMicroscopyImageStorage, DicomUids.OphthalmicPhotography8BitImageStorage, DicomUids.RTImageStorage,
        DicomUids.RTDoseStorage, DicomUids.RTStructureSetStorage, DicomUids.RTPlanStorage, DicomUids.RTIonPlanStorage,
        DicomUids.SegmentationStorage, DicomUids.ParametricMapStorage, DicomUids.SpatialRegistrationStorage,
        DicomUids.BasicTextSRStorage, DicomUids.EnhancedSRStorage, DicomUids.ComprehensiveSRStorage, DicomUids.Comprehensive3DSRStorage,
        DicomUids.XRayRadiationDoseSRStorage, DicomUids.KeyObjectSelectionDocumentStorage,
        DicomUids.GrayscaleSoftcopyPresentationStateStorage, DicomUids.EncapsulatedPDFStorage, DicomUids.RawDataStorage,
    ];

    // ------------------------------------------------------------------ on an association

    /// <summary>
    /// C-FIND: the response identifiers of the matches. <paramref name="level"/> is written into a copy of the identifier. A failure
    /// status ends the enumeration with <see cref="DicomRequestFailedException"/>.
    /// </summary>
    public static async IAsyncEnumerable<DicomDataset> FindAsync(this DicomAssociation association, QueryRetrieveInformationModel model,
        QueryRetrieveLevel level, DicomDataset identifier, DimsePriority priority = DimsePriority.Medium, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var (pc, command) = Prepare(association, model.FindSopClassUid, DimseCommandField.CFindRequest, priority, null);
        bool final = false;
        try
        {
            await foreach (var rsp in association.SendRequestAsync(pc, command, DimseDataset.FromDataset(WithLevel(identifier, level)), ct).ConfigureAwait(false))
            {
                if (rsp.Status.IsPending)
                {
                    if (rsp.Dataset != null) yield return rsp.Dataset;
                    continue;
                }
                final = true;
                if (rsp.Status.IsFailure) throw Failed(rsp);
            }
        }
        finally
        {
            if (!final) await CancelAbandonedAsync(association, command, pc, ct).ConfigureAwait(false);
        }
    }

    /// <summary>C-MOVE to <paramref name="destinationAE"/>: every response, the final one (with its status) last.</summary>
    public static IAsyncEnumerable<DicomRetrieveProgress> MoveAsync(this DicomAssociation association, QueryRetrieveInformationModel model,
        QueryRetrieveLevel level, DicomDataset identifier, string destinationAE, DimsePriority priority = DimsePriority.Medium, CancellationToken ct = default) =>
        RetrieveAsync(association, model.MoveSopClassUid, DimseCommandField.CMoveRequest, WithLevel(identifier, level), destinationAE, priority, null, ct);

    /// <summary>
    /// C-GET: every response, the final one last. The instances arrive as C-STORE-RQ on this association: to
    /// <paramref name="storeCallback"/> when given, else to the association's <see cref="IStoreHandler"/>. The association needs
    /// storage contexts on which we took the SCP role (<see cref="StorageContextsForGet"/>).
    /// </summary>
    public static IAsyncEnumerable<DicomRetrieveProgress> GetAsync(this DicomAssociation association, QueryRetrieveInformationModel model,
        QueryRetrieveLevel level, DicomDataset identifier, DicomStoreCallback? storeCallback = null, DimsePriority priority = DimsePriority.Medium,
        CancellationToken ct = default) =>
        RetrieveAsync(association, model.GetSopClassUid, DimseCommandField.CGetRequest, WithLevel(identifier, level), null, priority, storeCallback, ct);

    // ------------------------------------------------------------------ on a client: connect, operate, release

    /// <summary>Connects (proposing the model's FIND SOP class), runs the C-FIND, releases.</summary>
    public static async IAsyncEnumerable<DicomDataset> FindAsync(this DicomClient client, QueryRetrieveInformationModel model, QueryRetrieveLevel level,
        DicomDataset identifier, DimsePriority priority = DimsePriority.Medium, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var association = await client.ConnectAsync([QueryContext(model.FindSopClassUid)], ct: ct).ConfigureAwait(false);
        await using (association.ConfigureAwait(false))
        {
            await foreach (var match in association.FindAsync(model, level, identifier, priority, ct).ConfigureAwait(false))
                yield return match;
        }
    }

    /// <summary>Connects (proposing the model's MOVE SOP class), runs the C-MOVE, releases.</summary>
    public static async IAsyncEnumerable<DicomRetrieveProgress> MoveAsync(this DicomClient client, QueryRetrieveInformationModel model,
        QueryRetrieveLevel level, DicomDataset identifier, string destinationAE, DimsePriority priority = DimsePriority.Medium,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var association = await client.ConnectAsync([QueryContext(model.MoveSopClassUid)], ct: ct).ConfigureAwait(false);
        await using (association.ConfigureAwait(false))
        {
            await foreach (var p in association.MoveAsync(model, level, identifier, destinationAE, priority, ct).ConfigureAwait(false))
                yield return p;
        }
    }

    /// <summary>
    /// Connects proposing the model's GET SOP class and, with SCP/SCU role selection (we are SCP), one storage context per
    /// <see cref="DicomGetOptions.StorageSopClasses"/>; runs the C-GET with the instances going to <paramref name="storeCallback"/>; releases.
    /// </summary>
    public static async IAsyncEnumerable<DicomRetrieveProgress> GetAsync(this DicomClient client, QueryRetrieveInformationModel model,
        QueryRetrieveLevel level, DicomDataset identifier, DicomStoreCallback storeCallback, DicomGetOptions? options = null,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        options ??= DicomGetOptions.Default;
        var contexts = new List<DicomPresentationContextRequest> { QueryContext(model.GetSopClassUid) };
        contexts.AddRange(StorageContextsForGet(options.StorageSopClasses, options.TransferSyntaxes));
        var association = await client.ConnectAsync(contexts, ct: ct).ConfigureAwait(false);
        await using (association.ConfigureAwait(false))
        {
            await foreach (var p in association.GetAsync(model, level, identifier, storeCallback, options.Priority, ct).ConfigureAwait(false))
                yield return p;
        }
    }

    /// <summary>Storage contexts proposing the SCP role only (PS3.7 D.3.3.4), as C-GET needs.</summary>
    public static IEnumerable<DicomPresentationContextRequest> StorageContextsForGet(IEnumerable<string> sopClasses, IReadOnlyList<string>? transferSyntaxes = null) =>
        sopClasses.Distinct().Select(s => new DicomPresentationContextRequest(s, transferSyntaxes ?? DicomPresentationContextRequest.UncompressedTransferSyntaxes,
            ScuRole: false, ScpRole: true));

    // ------------------------------------------------------------------ helpers

    private static DicomPresentationContextRequest QueryContext(string sopClass) =>
        new(sopClass, DicomPresentationContextRequest.UncompressedTransferSyntaxes);

    private static DicomDataset WithLevel(DicomDataset identifier, QueryRetrieveLevel level)
    {
        var copy = identifier.Clone();
        copy.Set(DicomTags.QueryRetrieveLevel, DicomVR.CS, level.ToCode());
        return copy;
    }

    private static (byte Pc, DicomDataset Command) Prepare(DicomAssociation association, string sopClass, DimseCommandField field, DimsePriority priority,
        string? destination)
    {
        var pc = association.FindContextForRequest(sopClass)
            ?? throw new DicomNetworkException($"The peer did not accept {DicomUidRegistry.Lookup(sopClass)?.Name ?? sopClass} on association #{association.Id}.");
        var command = DimseCommand.CreateRequest(field, sopClass, hasDataSet: true);
        command.Set(DicomTags.Priority, DicomVR.US, (ushort)priority);
        if (destination != null) command.Set(DicomTags.MoveDestination, DicomVR.AE, destination);
        return (pc.Id, command);
    }

    private static async IAsyncEnumerable<DicomRetrieveProgress> RetrieveAsync(DicomAssociation association, string sopClass, DimseCommandField field,
        DicomDataset identifier, string? destination, DimsePriority priority, DicomStoreCallback? storeCallback,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var (pc, command) = Prepare(association, sopClass, field, priority, destination);
        var previous = association.Services;
        if (storeCallback != null) association.Services = new StoreCallbackServices(storeCallback, previous);
        bool final = false;
        try
        {
            await foreach (var rsp in association.SendRequestAsync(pc, command, DimseDataset.FromDataset(identifier), ct).ConfigureAwait(false))
            {
                var progress = DicomRetrieveProgress.From(rsp);
                final = progress.IsFinal;
                yield return progress;
            }
        }
        finally
        {
            if (!final) await CancelAbandonedAsync(association, command, pc, ct).ConfigureAwait(false);
            if (storeCallback != null) association.Services = previous;
        }
    }

    /// <summary>The caller left the enumeration before the final response: tell the SCP to stop (cancellation already did).</summary>
    private static async Task CancelAbandonedAsync(DicomAssociation association, DicomDataset command, byte pc, CancellationToken ct)
    {
        if (ct.IsCancellationRequested || !association.IsOpen || !command.TryGet<ushort>(DicomTags.MessageID, out var id)) return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await association.CancelRequestAsync(id, pc, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DicomException or OperationCanceledException or IOException)
        {
            // The association is ending anyway.
        }
    }

    private static DicomRequestFailedException Failed(DimseMessage rsp) =>
        new(rsp.Status, rsp.ErrorComment, rsp.Command.TryGetElement(DicomTags.OffendingElement, out _) ? rsp.Command.GetValues<DicomTag>(DicomTags.OffendingElement) : []);

    /// <summary>The association's services with an <see cref="IStoreHandler"/> that forwards to a callback.</summary>
    private sealed class StoreCallbackServices(DicomStoreCallback callback, IServiceProvider inner) : IServiceProvider, IStoreHandler
    {
        public object? GetService(Type serviceType) => serviceType == typeof(IStoreHandler) ? this : inner.GetService(serviceType);

        public ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken ct) => callback(request, ct);
    }
}
