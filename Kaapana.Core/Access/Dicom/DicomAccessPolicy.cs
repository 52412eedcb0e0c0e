using System.Net;
using Kaapana.Core.Archive.Dicom;
using Kaapana.Core.Audit;
using Kaapana.Dicom.Network;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Access.Dicom;

/// <summary>
/// The DICOM door at association time (one instance per association): a peer's rights are the union of the rules that
/// match it (<see cref="DicomAccessRules"/>) and the defaults (<see cref="DicomAccessOptions"/>: loopback may do everything,
/// configured remote nodes may store). No right at all: the association is rejected (A-ASSOCIATE-RJ permanent, calling AE
/// title not recognized). Otherwise only the presentation contexts of the granted services are accepted. The decision is
/// kept in <see cref="DicomAssociationAudit"/> for the handlers of the same association and recorded in the audit trail.
/// </summary>
public sealed class DicomAccessPolicy(
    DicomAccessRules rules,
    DicomAssociationAudit association,
    IOptions<DicomAccessOptions> access,
    IRemoteNodeDirectory nodes,
    ILogger<DicomAccessPolicy> logger) : IAssociationPolicy
{
    public async ValueTask<AssociationPolicyDecision> EvaluateAsync(AssociationRequestInfo request, CancellationToken ct)
    {
        var options = access.Value;
        var all = await rules.ListAsync(ct).ConfigureAwait(false);
        bool isRemoteNode = options.RemoteNodesMayStore && await nodes.FindAsync(request.CallingAE, ct).ConfigureAwait(false) is not null;
        var (rights, why) = Evaluate(all, request, options.LoopbackMayDoEverything, isRemoteNode);
        var decision = rights == DimseServiceRights.None
            ? AssociationPolicyDecision.Reject($"no rule grants {request.CallingAE} from {request.Remote?.Address} any service on {request.CalledAE}")
            : AssociationPolicyDecision.Allow(rights, why);
        if (!decision.Accepted)
            logger.LogWarning("DICOM association rejected: calling AE {CallingAE} from {Address} to {CalledAE} is not recognized (no access rule grants it a service)",
                request.CallingAE, request.Remote?.Address, request.CalledAE);
        association.Begin(request, decision);
        return decision;
    }

    /// <summary>The services <paramref name="request"/> may use, and why (rule ids and defaults that granted them).</summary>
    public static (DimseServiceRights Rights, string Why) Evaluate(IEnumerable<DicomAccessRule> rules, AssociationRequestInfo request,
        bool loopbackMayDoEverything, bool isRemoteNode)
    {
        var rights = DimseServiceRights.None;
        var why = new List<string>();
        var address = Normalize(request.Remote?.Address);
        if (loopbackMayDoEverything && address is not null && IPAddress.IsLoopback(address))
        {
            rights = DimseServiceRights.All;
            why.Add("loopback");
        }
        if (isRemoteNode)
        {
            rights |= DimseServiceRights.Store;
            why.Add("remote node");
        }
        foreach (var rule in rules)
        {
            if (!Matches(rule, request.CallingAE, request.CalledAE, address)) continue;
            rights |= RightsOf(rule);
            why.Add($"rule {rule.Id}");
        }
        return (rights, string.Join(", ", why));
    }

    public static DimseServiceRights RightsOf(DicomAccessRule rule) =>
        (rule.AllowStore ? DimseServiceRights.Store : 0) | (rule.AllowFind ? DimseServiceRights.Find : 0)
        | (rule.AllowMove ? DimseServiceRights.Move : 0) | (rule.AllowGet ? DimseServiceRights.Get : 0);

    private static bool Matches(DicomAccessRule rule, string callingAE, string calledAE, IPAddress? address)
    {
        if (!TitleMatches(rule.CallingAE, callingAE) || !TitleMatches(rule.CalledAE, calledAE)) return false;
        if (string.IsNullOrEmpty(rule.PeerAddress)) return true;
        return address is not null && DicomAccessRules.TryParseNetwork(rule.PeerAddress, out var network) && network.Contains(address);
    }

    // AE titles are case-sensitive; leading and trailing spaces are not significant (PS3.5 6.2).
    private static bool TitleMatches(string pattern, string title) => pattern.Trim() is var p && (p == "*" || p == title.Trim());

    private static IPAddress? Normalize(IPAddress? a) => a is { IsIPv4MappedToIPv6: true } ? a.MapToIPv4() : a;
}
