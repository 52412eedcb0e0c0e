namespace Kaapana.Dicom;

/// <summary>Root of every error Kaapana.Dicom raises on purpose.</summary>
public class DicomException : Exception
{
    public DicomException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Malformed encoded data. Names the byte offset (from the start of the stream) and, when known, the tag.</summary>
public sealed class DicomFormatException : DicomException
{
    public long Offset { get; }
    public DicomTag? Tag { get; }

    public DicomFormatException(string message, long offset, DicomTag? tag = null, Exception? inner = null)
        : base(Compose(message, offset, tag), inner)
    {
        Offset = offset;
        Tag = tag;
    }

    private static string Compose(string message, long offset, DicomTag? tag) =>
        tag is { } t ? $"{message} (tag {t}, offset {offset})" : $"{message} (offset {offset})";
}

/// <summary>A required element is absent.</summary>
public sealed class DicomTagNotFoundException(DicomTag tag)
    : DicomException($"Element {tag} {DicomDictionary.Lookup(tag)?.Keyword} is not present.")
{
    public DicomTag Tag { get; } = tag;
}

/// <summary>An element's value cannot be converted to the requested type or index.</summary>
public sealed class DicomValueException(DicomTag tag, string message) : DicomException($"{tag}: {message}")
{
    public DicomTag Tag { get; } = tag;
}
