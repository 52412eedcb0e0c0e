namespace Kaapana.Dicom.Network;

/// <summary>Status classes of PS3.7 C.1.</summary>
public enum DicomStatusState
{
    Success,
    Warning,
    Failure,
    Cancel,
    Pending,
}

/// <summary>
/// A DIMSE status code (0000,0900) with its class (PS3.7 Annex C; service-specific codes in PS3.4). Codes not listed here
/// still classify correctly: 0000 success, FF00/FF01 pending, FE00 cancel, 0001/0107/0116/Bxxx warning, anything else failure.
/// </summary>
public readonly record struct DicomStatus(ushort Code)
{
    public static readonly DicomStatus Success = new(0x0000);

    // Pending (C-FIND, C-GET, C-MOVE)
    public static readonly DicomStatus Pending = new(0xFF00);
    /// <summary>C-FIND: matches are continuing, but one or more optional keys were not supported.</summary>
    public static readonly DicomStatus PendingWarning = new(0xFF01);

    public static readonly DicomStatus Cancel = new(0xFE00);

    // Warnings
    public static readonly DicomStatus Warning = new(0x0001);
    public static readonly DicomStatus AttributeListError = new(0x0107);
    public static readonly DicomStatus AttributeValueOutOfRange = new(0x0116);
    /// <summary>C-STORE: coercion of data elements. C-GET/C-MOVE: sub-operations complete, one or more failures.</summary>
    public static readonly DicomStatus CoercionOfDataElements = new(0xB000);
    public static readonly DicomStatus SubOperationsCompleteWithFailures = new(0xB000);
    public static readonly DicomStatus DataSetDoesNotMatchSopClassWarning = new(0xB007);
    public static readonly DicomStatus ElementsDiscarded = new(0xB006);

    // General failures (PS3.7 C.5)
    public static readonly DicomStatus ProcessingFailure = new(0x0110);
    public static readonly DicomStatus DuplicateSopInstance = new(0x0111);
    public static readonly DicomStatus NoSuchSopInstance = new(0x0112);
    public static readonly DicomStatus InvalidArgumentValue = new(0x0115);
    public static readonly DicomStatus InvalidAttributeValue = new(0x0106);
    public static readonly DicomStatus NoSuchSopClass = new(0x0118);
    public static readonly DicomStatus ClassInstanceConflict = new(0x0119);
    public static readonly DicomStatus MissingAttribute = new(0x0120);
    public static readonly DicomStatus SopClassNotSupported = new(0x0122);
    public static readonly DicomStatus NotAuthorized = new(0x0124);
    public static readonly DicomStatus DuplicateInvocation = new(0x0210);
    public static readonly DicomStatus UnrecognizedOperation = new(0x0211);
    public static readonly DicomStatus MistypedArgument = new(0x0212);
    public static readonly DicomStatus ResourceLimitation = new(0x0213);

    // Service-specific failures (PS3.4)
    /// <summary>C-STORE: refused, out of resources (A7xx).</summary>
    public static readonly DicomStatus OutOfResources = new(0xA700);
    /// <summary>C-FIND/C-GET/C-MOVE: out of resources, unable to calculate number of matches.</summary>
    public static readonly DicomStatus OutOfResourcesUnableToCalculateMatches = new(0xA701);
    /// <summary>C-GET/C-MOVE: out of resources, unable to perform sub-operations.</summary>
    public static readonly DicomStatus OutOfResourcesUnableToPerformSubOperations = new(0xA702);
    /// <summary>C-MOVE: move destination unknown.</summary>
    public static readonly DicomStatus MoveDestinationUnknown = new(0xA801);
    /// <summary>C-STORE: data set does not match SOP class. C-FIND/C-GET/C-MOVE: identifier does not match SOP class (A9xx).</summary>
    public static readonly DicomStatus DataSetDoesNotMatchSopClass = new(0xA900);
    public static readonly DicomStatus IdentifierDoesNotMatchSopClass = new(0xA900);
    /// <summary>C-STORE: cannot understand. C-FIND/C-GET/C-MOVE: unable to process (Cxxx).</summary>
    public static readonly DicomStatus CannotUnderstand = new(0xC000);
    public static readonly DicomStatus UnableToProcess = new(0xC000);

    public DicomStatusState State => Code switch
    {
        0x0000 => DicomStatusState.Success,
        0xFF00 or 0xFF01 => DicomStatusState.Pending,
        0xFE00 => DicomStatusState.Cancel,
        0x0001 or 0x0107 or 0x0116 => DicomStatusState.Warning,
        >= 0xB000 and <= 0xBFFF => DicomStatusState.Warning,
        _ => DicomStatusState.Failure,
    };

    public bool IsSuccess => State == DicomStatusState.Success;
    public bool IsPending => State == DicomStatusState.Pending;
    public bool IsWarning => State == DicomStatusState.Warning;
    public bool IsFailure => State == DicomStatusState.Failure;
    public bool IsCancel => State == DicomStatusState.Cancel;

    /// <summary>Success or warning: the operation was carried out.</summary>
    public bool IsSuccessOrWarning => State is DicomStatusState.Success or DicomStatusState.Warning;

    /// <summary>True for every status that ends an operation (anything but pending).</summary>
    public bool IsFinal => State != DicomStatusState.Pending;

    public string Description => Code switch
    {
        0x0000 => "Success",
        0xFF00 => "Pending",
        0xFF01 => "Pending (optional keys not supported)",
        0xFE00 => "Cancel",
        0x0001 => "Warning",
        0x0107 => "Attribute list error",
        0x0116 => "Attribute value out of range",
        0xB000 => "Coercion of data elements / sub-operations complete with failures",
        0xB006 => "Elements discarded",
        0xB007 => "Data set does not match SOP class",
        0x0106 => "Invalid attribute value",
        0x0110 => "Processing failure",
        0x0111 => "Duplicate SOP instance",
        0x0112 => "No such SOP instance",
        0x0115 => "Invalid argument value",
        0x0118 => "No such SOP class",
        0x0119 => "Class-instance conflict",
        0x0120 => "Missing attribute",
        0x0122 => "SOP class not supported",
        0x0124 => "Not authorized",
        0x0210 => "Duplicate invocation",
        0x0211 => "Unrecognized operation",
        0x0212 => "Mistyped argument",
        0x0213 => "Resource limitation",
        0xA701 => "Out of resources: unable to calculate number of matches",
        0xA702 => "Out of resources: unable to perform sub-operations",
        0xA801 => "Move destination unknown",
        >= 0xA700 and <= 0xA7FF => "Refused: out of resources",
        >= 0xA900 and <= 0xA9FF => "Data set does not match SOP class",
        >= 0xC000 and <= 0xCFFF => "Cannot understand / unable to process",
        >= 0xB000 and <= 0xBFFF => "Warning",
        _ => State.ToString(),
    };

    public override string ToString() => $"0x{Code:X4} ({State}: {Description})";

    public static implicit operator ushort(DicomStatus s) => s.Code;
}
