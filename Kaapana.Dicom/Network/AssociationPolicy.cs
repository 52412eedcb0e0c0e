using System.Net;

namespace Kaapana.Dicom.Network;

/// <summary>The DIMSE services a peer may request on an association (C-ECHO is not listed: every accepted peer may echo).</summary>
[Flags]
public enum DimseServiceRights
{
    None = 0,
    Store = 1,
    Find = 2,
    Move = 4,
    Get = 8,
    All = Store | Find | Move | Get,
}

/// <summary>Who asks for an association: what a policy decides on.</summary>
public sealed record AssociationRequestInfo(string CallingAE, string CalledAE, IPEndPoint? Remote);

/// <summary>
/// A policy's answer. <see cref="Accepted"/> false: A-ASSOCIATE-RJ permanent, "calling AE title not recognized" (PS3.8 7.1.1.9).
/// Otherwise only the presentation contexts of the services in <see cref="Rights"/> (and Verification) are accepted; the others
/// get result 3 "abstract syntax not supported", so the peer learns before sending anything that it may not use them.
/// </summary>
public sealed record AssociationPolicyDecision(bool Accepted, DimseServiceRights Rights, string? Reason = null)
{
    public static AssociationPolicyDecision Reject(string reason) => new(false, DimseServiceRights.None, reason);
    public static AssociationPolicyDecision Allow(DimseServiceRights rights, string? reason = null) => new(true, rights, reason);
}

/// <summary>
/// Optional: decides at association time whether a peer may associate and which services it may use. Resolved from the
/// association's services (its scope, when the server has a scope factory), so a scoped policy can hand its decision to the
/// handlers of the same association. Without one every peer that passes the AE title checks may use every service.
/// </summary>
public interface IAssociationPolicy
{
    ValueTask<AssociationPolicyDecision> EvaluateAsync(AssociationRequestInfo request, CancellationToken ct);
}
