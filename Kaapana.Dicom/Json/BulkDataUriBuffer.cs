namespace Kaapana.Dicom.Json;

/// <summary>
/// The value of an element that DICOM JSON gave only as a <c>"BulkDataURI"</c> and that was not resolved while parsing.
/// It remembers the URI so the element can be written back to JSON unchanged; its bytes are not available:
/// <see cref="Memory"/>, <see cref="OpenRead"/> and <see cref="CopyTo"/> throw a <see cref="DicomException"/>
/// (so a Part 10 writer cannot silently store an empty value). <see cref="Length"/> is 0 because the size is unknown.
/// </summary>
public sealed class BulkDataUriBuffer(string uri) : DicomBuffer
{
    public string Uri { get; } = uri;

    public override long Length => 0;

    public override bool IsInMemory => false;

    public override ReadOnlyMemory<byte> Memory => throw NotLoaded();

    public override Stream OpenRead() => throw NotLoaded();

    public override void CopyTo(Stream destination) => throw NotLoaded();

    private DicomException NotLoaded() =>
        new($"The value is bulk data at '{Uri}' that was not loaded; retrieve it, or parse with DicomJsonReadOptions.BulkDataResolver.");

    public override string ToString() => $"BulkDataURI {Uri}";
}

/// <summary>Access to bulk data references left by <see cref="DicomJsonReader"/>.</summary>
public static class DicomBulkDataReference
{
    /// <summary>True when the element's value is an unresolved BulkDataURI; <paramref name="uri"/> is then that URI.</summary>
    public static bool TryGetBulkDataUri(this DicomElement element, out string uri)
    {
        if (element is DicomValueElement { Buffer: BulkDataUriBuffer b })
        {
            uri = b.Uri;
            return true;
        }
        uri = "";
        return false;
    }
}
