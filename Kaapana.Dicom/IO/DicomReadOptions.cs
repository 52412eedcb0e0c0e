namespace Kaapana.Dicom;

/// <summary>How much of a file to read, and what to leave on disk.</summary>
public sealed record DicomReadOptions
{
    public static DicomReadOptions Default { get; } = new();

    /// <summary>Stop at the top-level Pixel Data element (and anything after it): a header-only read.</summary>
    public bool StopBeforePixelData { get; init; }

    /// <summary>Stop at the first top-level element whose tag satisfies this predicate (that element is not read).</summary>
    public Func<DicomTag, bool>? StopWhen { get; init; }

    /// <summary>
    /// Values longer than this (bytes) stay in the file and are read on access, when reading from a file path.
    /// Null keeps everything in memory.
    /// </summary>
    public long? LargeValueThreshold { get; init; } = 64 * 1024;

    /// <summary>Nesting limit for sequences; deeper input is rejected as malformed rather than risking a stack overflow.</summary>
    public int MaxDepth { get; init; } = 64;
}
