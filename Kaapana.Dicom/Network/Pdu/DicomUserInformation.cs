namespace Kaapana.Dicom.Network;

/// <summary>
/// User Information item (PS3.8 9.3.2.3, PS3.7 Annex D.3.3) of A-ASSOCIATE-RQ/AC. Every sub-item is optional; sub-items of an
/// unknown type are kept in <see cref="UnknownSubItems"/> (and re-encoded) rather than rejected, as PS3.7 D.3.3 asks.
/// </summary>
public sealed class DicomUserInformation
{
    /// <summary>0x51: the largest P-DATA-TF variable field the sender will accept; 0 means no limit.</summary>
    public uint? MaxPduLength { get; set; }

    /// <summary>0x52 (mandatory in practice).</summary>
    public string? ImplementationClassUid { get; set; }

    /// <summary>0x55: 1-16 characters.</summary>
    public string? ImplementationVersionName { get; set; }

    /// <summary>0x53: maximum operations invoked / performed; absent means 1/1.</summary>
    public DicomAsyncOperationsWindow? AsyncOperationsWindow { get; set; }

    /// <summary>0x54: SCP/SCU role selection, one per SOP class.</summary>
    public List<DicomRoleSelection> RoleSelections { get; } = [];

    /// <summary>0x56: SOP class extended negotiation (service-class application information is opaque here).</summary>
    public List<DicomExtendedNegotiation> ExtendedNegotiations { get; } = [];

    /// <summary>0x57: SOP class common extended negotiation (request only).</summary>
    public List<DicomCommonExtendedNegotiation> CommonExtendedNegotiations { get; } = [];

    /// <summary>0x58: user identity (request only).</summary>
    public DicomUserIdentityRequest? UserIdentity { get; set; }

    /// <summary>0x59: user identity server response (accept only).</summary>
    public DicomUserIdentityResponse? UserIdentityResponse { get; set; }

    /// <summary>Sub-items of types this implementation does not know, in order of appearance.</summary>
    public List<DicomUnknownSubItem> UnknownSubItems { get; } = [];
}

/// <summary>Asynchronous Operations Window sub-item (0x53, PS3.7 D.3.3.3). 0 means unlimited.</summary>
public sealed record DicomAsyncOperationsWindow(ushort MaxOperationsInvoked, ushort MaxOperationsPerformed);

/// <summary>
/// SCP/SCU Role Selection sub-item (0x54, PS3.7 D.3.3.4). In a request, whether the requestor supports each role; in an
/// accept, whether the acceptor agrees to the requestor taking it. Without the sub-item the requestor is SCU only.
/// </summary>
public sealed record DicomRoleSelection(string SopClassUid, bool ScuRole, bool ScpRole);

/// <summary>SOP Class Extended Negotiation sub-item (0x56, PS3.7 D.3.3.5).</summary>
public sealed record DicomExtendedNegotiation(string SopClassUid, byte[] ServiceClassApplicationInformation);

/// <summary>SOP Class Common Extended Negotiation sub-item (0x57, PS3.7 D.3.3.6).</summary>
public sealed record DicomCommonExtendedNegotiation(string SopClassUid, string ServiceClassUid, IReadOnlyList<string> RelatedGeneralSopClassUids);

/// <summary>User identity types (PS3.7 D.3.3.7).</summary>
public enum DicomUserIdentityType : byte
{
    Username = 1,
    UsernameAndPasscode = 2,
    KerberosServiceTicket = 3,
    SamlAssertion = 4,
    JsonWebToken = 5,
}

/// <summary>User Identity Negotiation sub-item, request (0x58, PS3.7 D.3.3.7.1). The secondary field is the passcode for type 2.</summary>
public sealed record DicomUserIdentityRequest(DicomUserIdentityType IdentityType, bool PositiveResponseRequested, byte[] PrimaryField, byte[] SecondaryField)
{
    public static DicomUserIdentityRequest FromUsername(string user, string? passcode = null, bool positiveResponseRequested = false) =>
        new(passcode is null ? DicomUserIdentityType.Username : DicomUserIdentityType.UsernameAndPasscode, positiveResponseRequested,
            System.Text.Encoding.UTF8.GetBytes(user), passcode is null ? [] : System.Text.Encoding.UTF8.GetBytes(passcode));
}

/// <summary>User Identity Negotiation sub-item, accept (0x59, PS3.7 D.3.3.7.2).</summary>
public sealed record DicomUserIdentityResponse(byte[] ServerResponse);

/// <summary>A user information sub-item of a type not defined above (kept as raw bytes).</summary>
public sealed record DicomUnknownSubItem(byte ItemType, byte[] Data);
