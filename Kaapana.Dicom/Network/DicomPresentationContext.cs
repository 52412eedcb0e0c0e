namespace Kaapana.Dicom.Network;

/// <summary>A presentation context as negotiated: what was proposed, the result, and the roles agreed.</summary>
public sealed class DicomPresentationContext
{
    public DicomPresentationContext(byte id, string abstractSyntax, IReadOnlyList<string> proposedTransferSyntaxes,
        DicomPresentationContextResult result, DicomTransferSyntax? transferSyntax, bool requestorIsScu = true, bool requestorIsScp = false)
    {
        Id = id;
        AbstractSyntax = abstractSyntax;
        ProposedTransferSyntaxes = proposedTransferSyntaxes;
        Result = result;
        TransferSyntax = transferSyntax;
        RequestorIsScu = requestorIsScu;
        RequestorIsScp = requestorIsScp;
    }

    public byte Id { get; }
    public string AbstractSyntax { get; }
    public IReadOnlyList<string> ProposedTransferSyntaxes { get; }
    public DicomPresentationContextResult Result { get; }

    /// <summary>The accepted transfer syntax; null unless <see cref="IsAccepted"/>.</summary>
    public DicomTransferSyntax? TransferSyntax { get; }

    public bool IsAccepted => Result == DicomPresentationContextResult.Acceptance && TransferSyntax != null;

    /// <summary>The association requestor may invoke operations of this SOP class (SCU role). Default without role selection: true.</summary>
    public bool RequestorIsScu { get; internal set; }

    /// <summary>The association requestor may perform operations of this SOP class (SCP role, e.g. C-STORE sub-operations of C-GET).</summary>
    public bool RequestorIsScp { get; internal set; }

    public override string ToString() =>
        $"#{Id} {DicomUidRegistry.Lookup(AbstractSyntax)?.Name ?? AbstractSyntax}: {Result}{(TransferSyntax is { } ts ? $" ({ts.Name})" : "")}";
}

/// <summary>A presentation context to propose: one abstract syntax, transfer syntaxes in order of preference, optional role selection.</summary>
/// <param name="ScuRole">With <paramref name="ScpRole"/>, sends an SCP/SCU Role Selection sub-item for the abstract syntax (PS3.7 D.3.3.4).</param>
public sealed record DicomPresentationContextRequest(string AbstractSyntax, IReadOnlyList<string> TransferSyntaxes, bool? ScuRole = null, bool? ScpRole = null)
{
    public DicomPresentationContextRequest(string abstractSyntax, params DicomTransferSyntax[] transferSyntaxes)
        : this(abstractSyntax, transferSyntaxes.Select(t => t.Uid).ToArray()) { }

    /// <summary>Explicit VR little endian, then implicit VR little endian.</summary>
    public static IReadOnlyList<string> UncompressedTransferSyntaxes { get; } =
        [DicomTransferSyntax.ExplicitVRLittleEndian.Uid, DicomTransferSyntax.ImplicitVRLittleEndian.Uid];
}
