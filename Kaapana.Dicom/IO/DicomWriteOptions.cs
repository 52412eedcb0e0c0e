namespace Kaapana.Dicom;

/// <summary>Choices for encoding a data set.</summary>
public sealed record DicomWriteOptions
{
    public static DicomWriteOptions Default { get; } = new();

    /// <summary>Target transfer syntax; null keeps the file's own.</summary>
    public DicomTransferSyntax? TransferSyntax { get; init; }

    /// <summary>Write sequences with undefined length and delimiters (true) or with computed explicit lengths (false).</summary>
    public bool UndefinedLengthSequences { get; init; }

    /// <summary>Write items with undefined length and item delimiters (true) or with computed explicit lengths (false).</summary>
    public bool UndefinedLengthItems { get; init; }

    /// <summary>Group length elements (gggg,0000) other than the meta group's are retired; by default they are dropped.</summary>
    public bool KeepGroupLengths { get; init; }

    /// <summary>Write the 128-byte preamble and DICM prefix (Part 10). False writes meta + data set only.</summary>
    public bool WritePreamble { get; init; } = true;
}
