namespace Kaapana.Dicom.Network;

/// <summary>A network-level failure: connection lost, timeout, or an operation the association cannot carry out.</summary>
public class DicomNetworkException : DicomException
{
    public DicomNetworkException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// The peer broke the upper layer protocol (PS3.8): a malformed, unknown or unexpected PDU. An association that sees one is
/// aborted with <see cref="AbortReason"/> (source: service provider).
/// </summary>
public sealed class DicomProtocolException : DicomNetworkException
{
    public DicomAbortReason AbortReason { get; }

    /// <summary>Byte offset inside the PDU (from its first header byte) where the problem was found, when known.</summary>
    public long? Offset { get; }

    public DicomProtocolException(string message, DicomAbortReason reason = DicomAbortReason.InvalidPduParameterValue, long? offset = null, Exception? inner = null)
        : base(offset is { } o ? $"{message} (PDU offset {o})" : message, inner)
    {
        AbortReason = reason;
        Offset = offset;
    }
}

/// <summary>The peer answered A-ASSOCIATE-RQ with A-ASSOCIATE-RJ.</summary>
public sealed class DicomAssociationRejectedException(DicomRejectResult result, DicomRejectSource source, byte reason)
    : DicomNetworkException($"Association rejected: {AssociateRejectPdu.Describe(result, source, reason)}")
{
    public DicomRejectResult Result { get; } = result;
    public DicomRejectSource RejectSource { get; } = source;

    /// <summary>Reason/diagnostic code; its meaning depends on <see cref="Source"/> (PS3.8 Table 9-21).</summary>
    public byte Reason { get; } = reason;
}

/// <summary>The association ended abnormally: A-ABORT received or sent, or the transport failed.</summary>
public sealed class DicomAssociationAbortedException(string message, DicomAbortSource? source = null, DicomAbortReason? reason = null, Exception? inner = null)
    : DicomNetworkException(message, inner)
{
    /// <summary>Set when an A-ABORT PDU was exchanged.</summary>
    public DicomAbortSource? AbortSource { get; } = source;
    public DicomAbortReason? AbortReason { get; } = reason;
}
