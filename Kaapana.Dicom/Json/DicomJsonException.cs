namespace Kaapana.Dicom.Json;

/// <summary>
/// Malformed DICOM JSON (PS3.18 Annex F) input. <see cref="Path"/> locates the offending token as a JSON pointer-like path
/// such as <c>/00081115/Value/0/0020000E/vr</c> (for <see cref="DicomJsonReader.ParseArray(string, DicomJsonReadOptions?)"/>
/// it starts with the array index); <see cref="Tag"/> is the innermost attribute being read, when there is one.
/// </summary>
public sealed class DicomJsonException : DicomException
{
    public string Path { get; }
    public DicomTag? Tag { get; }

    public DicomJsonException(string message, string path, DicomTag? tag = null, Exception? inner = null)
        : base(Compose(message, path, tag), inner)
    {
        Path = path;
        Tag = tag;
    }

    private static string Compose(string message, string path, DicomTag? tag) =>
        tag is { } t ? $"{message} (attribute {t}, at {(path.Length == 0 ? "/" : path)})" : $"{message} (at {(path.Length == 0 ? "/" : path)})";
}
