namespace Kaapana.Dicom.Network;

/// <summary>PDU types of the DICOM upper layer (PS3.8 9.3).</summary>
public enum DicomPduType : byte
{
    AssociateRequest = 0x01,
    AssociateAccept = 0x02,
    AssociateReject = 0x03,
    DataTransfer = 0x04,
    ReleaseRequest = 0x05,
    ReleaseResponse = 0x06,
    Abort = 0x07,
}

/// <summary>A-ABORT source (PS3.8 Table 9-26).</summary>
public enum DicomAbortSource : byte
{
    ServiceUser = 0,
    Reserved = 1,
    ServiceProvider = 2,
}

/// <summary>A-ABORT reason/diagnostic, meaningful when the source is the service provider (PS3.8 Table 9-26).</summary>
public enum DicomAbortReason : byte
{
    NotSpecified = 0,
    UnrecognizedPdu = 1,
    UnexpectedPdu = 2,
    Reserved = 3,
    UnrecognizedPduParameter = 4,
    UnexpectedPduParameter = 5,
    InvalidPduParameterValue = 6,
}

/// <summary>A-ASSOCIATE-RJ result (PS3.8 Table 9-21).</summary>
public enum DicomRejectResult : byte
{
    Permanent = 1,
    Transient = 2,
}

/// <summary>A-ASSOCIATE-RJ source (PS3.8 Table 9-21).</summary>
public enum DicomRejectSource : byte
{
    /// <summary>DICOM UL service-user: reasons in <see cref="DicomRejectReason"/> 1, 2, 3, 7.</summary>
    ServiceUser = 1,
    /// <summary>DICOM UL service-provider, ACSE related: 1 no reason, 2 protocol version not supported.</summary>
    ServiceProviderAcse = 2,
    /// <summary>DICOM UL service-provider, presentation related: 1 temporary congestion, 2 local limit exceeded.</summary>
    ServiceProviderPresentation = 3,
}

/// <summary>Named A-ASSOCIATE-RJ reason codes. The byte on the wire means different things per source, so these are constants, not an enum.</summary>
public static class DicomRejectReason
{
    // Source 1: service user
    public const byte NoReasonGiven = 1;
    public const byte ApplicationContextNameNotSupported = 2;
    public const byte CallingAETitleNotRecognized = 3;
    public const byte CalledAETitleNotRecognized = 7;

    // Source 2: service provider (ACSE)
    public const byte ProtocolVersionNotSupported = 2;

    // Source 3: service provider (presentation)
    public const byte TemporaryCongestion = 1;
    public const byte LocalLimitExceeded = 2;
}

/// <summary>Result of one presentation context in A-ASSOCIATE-AC (PS3.8 Table 9-18).</summary>
public enum DicomPresentationContextResult : byte
{
    Acceptance = 0,
    UserRejection = 1,
    /// <summary>No reason (provider rejection).</summary>
    ProviderRejection = 2,
    AbstractSyntaxNotSupported = 3,
    TransferSyntaxesNotSupported = 4,
}

/// <summary>Base of the seven PDU types. Encode with <see cref="PduCodec.Encode"/>, decode with <see cref="PduCodec.Decode"/>.</summary>
public abstract class DicomPdu
{
    public abstract DicomPduType Type { get; }
}

/// <summary>Fields shared by A-ASSOCIATE-RQ and A-ASSOCIATE-AC.</summary>
public abstract class AssociatePduBase : DicomPdu
{
    /// <summary>DICOM application context (PS3.7 A.2.1).</summary>
    public const string DicomApplicationContext = "1.2.840.10008.3.1.1.1";

    /// <summary>Bit 0 set = version 1, the only one defined.</summary>
    public ushort ProtocolVersion { get; set; } = 1;
    public string CalledAE { get; set; } = "";
    public string CallingAE { get; set; } = "";

    /// <summary>Null when the item was missing from a decoded PDU.</summary>
    public string? ApplicationContextName { get; set; } = DicomApplicationContext;
    public DicomUserInformation UserInformation { get; set; } = new();
}

/// <summary>A-ASSOCIATE-RQ (PS3.8 9.3.2).</summary>
public sealed class AssociateRequestPdu : AssociatePduBase
{
    public override DicomPduType Type => DicomPduType.AssociateRequest;
    public List<DicomPresentationContextProposal> PresentationContexts { get; } = [];
}

/// <summary>A-ASSOCIATE-AC (PS3.8 9.3.3). Called/calling AE titles echo the request (sent, but not tested).</summary>
public sealed class AssociateAcceptPdu : AssociatePduBase
{
    public override DicomPduType Type => DicomPduType.AssociateAccept;
    public List<DicomPresentationContextResponse> PresentationContexts { get; } = [];
}

/// <summary>A-ASSOCIATE-RJ (PS3.8 9.3.4).</summary>
public sealed class AssociateRejectPdu(DicomRejectResult result, DicomRejectSource source, byte reason) : DicomPdu
{
    public override DicomPduType Type => DicomPduType.AssociateReject;
    public DicomRejectResult Result { get; } = result;
    public DicomRejectSource Source { get; } = source;
    public byte Reason { get; } = reason;

    public override string ToString() => Describe(Result, Source, Reason);

    public static string Describe(DicomRejectResult result, DicomRejectSource source, byte reason)
    {
        var r = result switch
        {
            DicomRejectResult.Permanent => "rejected-permanent",
            DicomRejectResult.Transient => "rejected-transient",
            _ => $"result {(byte)result}",
        };
        var (s, why) = source switch
        {
            DicomRejectSource.ServiceUser => ("service-user", reason switch
            {
                1 => "no-reason-given",
                2 => "application-context-name-not-supported",
                3 => "calling-AE-title-not-recognized",
                7 => "called-AE-title-not-recognized",
                _ => $"reason {reason}",
            }),
            DicomRejectSource.ServiceProviderAcse => ("service-provider (ACSE)", reason switch
            {
                1 => "no-reason-given",
                2 => "protocol-version-not-supported",
                _ => $"reason {reason}",
            }),
            DicomRejectSource.ServiceProviderPresentation => ("service-provider (presentation)", reason switch
            {
                1 => "temporary-congestion",
                2 => "local-limit-exceeded",
                _ => $"reason {reason}",
            }),
            _ => ($"source {(byte)source}", $"reason {reason}"),
        };
        return $"{r}, {s}, {why}";
    }
}

/// <summary>P-DATA-TF (PS3.8 9.3.5): one or more presentation data values.</summary>
public sealed class DataTransferPdu : DicomPdu
{
    public override DicomPduType Type => DicomPduType.DataTransfer;
    public List<DicomPresentationDataValue> Values { get; } = [];
}

/// <summary>One PDV: a fragment of a command or data set for one presentation context (PS3.8 9.3.5.1, E.2).</summary>
public sealed record DicomPresentationDataValue(byte PresentationContextId, bool IsCommand, bool IsLastFragment, ReadOnlyMemory<byte> Data)
{
    /// <summary>The message control header byte: bit 0 command, bit 1 last fragment.</summary>
    public byte ControlHeader => (byte)((IsCommand ? 1 : 0) | (IsLastFragment ? 2 : 0));
}

/// <summary>A-RELEASE-RQ (PS3.8 9.3.6).</summary>
public sealed class ReleaseRequestPdu : DicomPdu
{
    public override DicomPduType Type => DicomPduType.ReleaseRequest;
}

/// <summary>A-RELEASE-RP (PS3.8 9.3.7).</summary>
public sealed class ReleaseResponsePdu : DicomPdu
{
    public override DicomPduType Type => DicomPduType.ReleaseResponse;
}

/// <summary>A-ABORT (PS3.8 9.3.8).</summary>
public sealed class AbortPdu(DicomAbortSource source, DicomAbortReason reason) : DicomPdu
{
    public override DicomPduType Type => DicomPduType.Abort;
    public DicomAbortSource Source { get; } = source;
    public DicomAbortReason Reason { get; } = reason;

    public override string ToString() => Describe(Source, Reason);

    public static string Describe(DicomAbortSource source, DicomAbortReason reason) => source switch
    {
        DicomAbortSource.ServiceUser => "A-ABORT from service-user",
        DicomAbortSource.ServiceProvider => $"A-ABORT from service-provider: {reason switch
        {
            DicomAbortReason.NotSpecified => "reason-not-specified",
            DicomAbortReason.UnrecognizedPdu => "unrecognized-PDU",
            DicomAbortReason.UnexpectedPdu => "unexpected-PDU",
            DicomAbortReason.UnrecognizedPduParameter => "unrecognized-PDU-parameter",
            DicomAbortReason.UnexpectedPduParameter => "unexpected-PDU-parameter",
            DicomAbortReason.InvalidPduParameterValue => "invalid-PDU-parameter-value",
            _ => $"reason {(byte)reason}",
        }}",
        _ => $"A-ABORT (source {(byte)source}, reason {(byte)reason})",
    };
}

/// <summary>Presentation context item of A-ASSOCIATE-RQ (PS3.8 9.3.2.2): one abstract syntax, one or more transfer syntaxes.</summary>
public sealed record DicomPresentationContextProposal(byte Id, string AbstractSyntax, IReadOnlyList<string> TransferSyntaxes);

/// <summary>Presentation context item of A-ASSOCIATE-AC (PS3.8 9.3.3.2). The transfer syntax is meaningful only on acceptance.</summary>
public sealed record DicomPresentationContextResponse(byte Id, DicomPresentationContextResult Result, string TransferSyntax);
