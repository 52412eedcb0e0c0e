namespace Kaapana.Dicom.Network;

/// <summary>
/// The acceptor's answer to an A-ASSOCIATE-RQ (PS3.8 7.1.1, PS3.7 D.3): association-level checks with the rejection the
/// standard names for each, then one result per presentation context.
/// </summary>
internal static class AssociationNegotiator
{
    public enum Condition { Normal, OverLimit, ShuttingDown }

    public static DicomPdu Negotiate(AssociateRequestPdu rq, DicomServerOptions options, DimseServiceRegistry registry, IServiceProvider services,
        Condition condition, DimseServiceRights rights = DimseServiceRights.All) =>
        (DicomPdu?)Check(rq, options, condition) ?? Answer(rq, options, registry, services, rights);

    /// <summary>The association-level rejection, if any (before any application policy is asked).</summary>
    public static AssociateRejectPdu? Check(AssociateRequestPdu rq, DicomServerOptions options, Condition condition)
    {
        if (condition == Condition.OverLimit)
            return new AssociateRejectPdu(DicomRejectResult.Transient, DicomRejectSource.ServiceProviderPresentation, DicomRejectReason.LocalLimitExceeded);
        if (condition == Condition.ShuttingDown)
            return new AssociateRejectPdu(DicomRejectResult.Transient, DicomRejectSource.ServiceProviderPresentation, DicomRejectReason.TemporaryCongestion);
        if ((rq.ProtocolVersion & 1) == 0)
            return new AssociateRejectPdu(DicomRejectResult.Permanent, DicomRejectSource.ServiceProviderAcse, DicomRejectReason.ProtocolVersionNotSupported);
        if (rq.ApplicationContextName != AssociatePduBase.DicomApplicationContext)
            return new AssociateRejectPdu(DicomRejectResult.Permanent, DicomRejectSource.ServiceUser, DicomRejectReason.ApplicationContextNameNotSupported);
        if (options.AETitles.Length > 0 && !options.AETitles.Any(t => t.Trim() == rq.CalledAE))
            return new AssociateRejectPdu(DicomRejectResult.Permanent, DicomRejectSource.ServiceUser, DicomRejectReason.CalledAETitleNotRecognized);
        if (options.AllowedCallingAETitles.Length > 0 && !options.AllowedCallingAETitles.Any(t => t.Trim() == rq.CallingAE))
            return new AssociateRejectPdu(DicomRejectResult.Permanent, DicomRejectSource.ServiceUser, DicomRejectReason.CallingAETitleNotRecognized);
        return null;
    }

    /// <summary>
    /// Whether a service may be offered under <paramref name="rights"/>: Verification always; Storage, Q/R FIND, MOVE, GET by
    /// their right; anything else (N-services) only with every right.
    /// </summary>
    internal static bool Permits(DimseService service, DimseServiceRights rights)
    {
        foreach (var field in service.RequestCommandFields)
        {
            var needed = field switch
            {
                DimseCommandField.CEchoRequest => DimseServiceRights.None,
                DimseCommandField.CStoreRequest => DimseServiceRights.Store,
                DimseCommandField.CFindRequest => DimseServiceRights.Find,
                DimseCommandField.CMoveRequest => DimseServiceRights.Move,
                DimseCommandField.CGetRequest => DimseServiceRights.Get,
                _ => DimseServiceRights.All,
            };
            if ((rights & needed) != needed) return false;
        }
        return true;
    }

    /// <summary>The A-ASSOCIATE-AC: one result per presentation context, offering only the services <paramref name="rights"/> permits.</summary>
    public static AssociateAcceptPdu Answer(AssociateRequestPdu rq, DicomServerOptions options, DimseServiceRegistry registry, IServiceProvider services,
        DimseServiceRights rights)
    {
        var permitted = registry.Services.Where(s => Permits(s, rights)).ToList();

        // Abstract syntax -> may compressed syntaxes be accepted as they are?
        var offered = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var service in permitted)
            foreach (var uid in service.GetAbstractSyntaxes(services))
                offered[uid] = (offered.TryGetValue(uid, out var enc) && enc) || service.AcceptsEncapsulatedTransferSyntaxes;

        // C-GET: storage contexts in which the requestor takes the SCP role, for sub-operations sent back to it.
        if (permitted.Any(s => s.UsesStorageSubOperations && s.GetAbstractSyntaxes(services).Any()))
        {
            var storage = options.EffectiveStorageSopClasses.ToHashSet(StringComparer.Ordinal);
            foreach (var role in rq.UserInformation.RoleSelections)
                if (role.ScpRole && storage.Contains(role.SopClassUid)) offered[role.SopClassUid] = true;
        }

        var ac = new AssociateAcceptPdu
        {
            ProtocolVersion = 1,
            CalledAE = rq.CalledAE,
            CallingAE = rq.CallingAE,
            ApplicationContextName = AssociatePduBase.DicomApplicationContext,
        };
        var seen = new HashSet<byte>();
        var acceptedSyntaxes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pc in rq.PresentationContexts)
        {
            DicomPresentationContextResult result;
            string? ts = null;
            if ((pc.Id & 1) == 0 || !seen.Add(pc.Id) || pc.AbstractSyntax.Length == 0)
                result = DicomPresentationContextResult.ProviderRejection; // invalid: even or repeated id, no abstract syntax
            else if (!offered.TryGetValue(pc.AbstractSyntax, out var compressedOk))
                result = DicomPresentationContextResult.AbstractSyntaxNotSupported;
            else if ((ts = ChooseTransferSyntax(pc.TransferSyntaxes, options, compressedOk && options.AcceptCompressedForStorage)) is null)
                result = DicomPresentationContextResult.TransferSyntaxesNotSupported;
            else
            {
                result = DicomPresentationContextResult.Acceptance;
                acceptedSyntaxes.Add(pc.AbstractSyntax);
            }
            // The transfer syntax sub-item is required even on rejection, where it is not tested.
            ac.PresentationContexts.Add(new DicomPresentationContextResponse(pc.Id, result, ts ?? DicomTransferSyntax.ImplicitVRLittleEndian.Uid));
        }

        var ui = ac.UserInformation;
        ui.MaxPduLength = options.MaxPduLength;
        ui.ImplementationClassUid = DicomImplementation.ClassUid;
        ui.ImplementationVersionName = DicomImplementation.VersionName;
        // We perform and invoke one operation at a time; answering 1/1 tells the requestor so (PS3.7 D.3.3.3).
        if (rq.UserInformation.AsyncOperationsWindow != null) ui.AsyncOperationsWindow = new DicomAsyncOperationsWindow(1, 1);
        // Roles: whatever the requestor can take for an accepted SOP class is granted (C-GET needs the requestor as storage SCP).
        foreach (var role in rq.UserInformation.RoleSelections)
            if (acceptedSyntaxes.Contains(role.SopClassUid) && ui.RoleSelections.All(r => r.SopClassUid != role.SopClassUid))
                ui.RoleSelections.Add(role);
        return ac;
    }

    /// <summary>
    /// With <paramref name="acceptCompressed"/>, a compressed syntax the peer puts first is taken as is; otherwise the first of
    /// our preference list the peer proposed; failing that (storage only), any compressed syntax the peer proposed.
    /// </summary>
    internal static string? ChooseTransferSyntax(IReadOnlyList<string> proposed, DicomServerOptions options, bool acceptCompressed)
    {
        if (proposed.Count == 0) return null;
        if (acceptCompressed && IsKnownEncapsulated(proposed[0])) return proposed[0];
        foreach (var ours in options.TransferSyntaxes)
            if (proposed.Contains(ours)) return ours;
        if (acceptCompressed)
            foreach (var p in proposed)
                if (IsKnownEncapsulated(p)) return p;
        return null;
    }

    private static bool IsKnownEncapsulated(string uid) =>
        DicomUidRegistry.Lookup(uid)?.IsTransferSyntax == true && DicomTransferSyntax.Lookup(uid).IsEncapsulated;
}
