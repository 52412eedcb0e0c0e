namespace Kaapana.Dicom;

/// <summary>
/// Specific Character Set (0008,0005): decodes and encodes the values of SH, LO, UC, ST, LT, UT and PN (PS3.5 6.1,
/// PS3.3 C.12.1.1.2). Covers the default repertoire, the ISO 8859 / JIS X 0201 / TIS 620 single-byte sets, ISO 2022 code
/// extensions with JIS X 0208 / JIS X 0212 / KS X 1001 / GB 2312, and UTF-8, GB18030 and GBK. Immutable and thread-safe.
/// </summary>
public sealed class DicomCharacterSet
{
    private readonly ITextCodec _codec;

    private DicomCharacterSet(IReadOnlyList<string> terms, IReadOnlyList<string> warnings, ITextCodec codec, bool isDefault)
    {
        Terms = terms;
        Warnings = warnings;
        _codec = codec;
        IsDefault = isDefault;
    }

    /// <summary>The default repertoire (ISO-IR 6, i.e. ASCII), used when (0008,0005) is absent or empty.</summary>
    public static DicomCharacterSet Default { get; } = new([], [], Iso2022Codec.DefaultRepertoire, isDefault: true);

    /// <summary>
    /// Builds the character set from the values of (0008,0005) as read, e.g. <c>["", "ISO 2022 IR 87"]</c>. Padding is trimmed.
    /// Never throws: unknown or unusable values fall back to the default repertoire for that value and are listed in <see cref="Warnings"/>.
    /// </summary>
    public static DicomCharacterSet FromTerms(IReadOnlyList<string>? terms)
    {
        if (terms is null || terms.Count == 0) return Default;
        var trimmed = terms.Select(t => (t ?? "").Trim(' ', '\0')).ToArray();
        var warnings = new List<string>();
        var codec = CharacterSetTermResolver.Resolve(trimmed, warnings, out bool isDefault);
        if (isDefault && warnings.Count == 0 && trimmed is [""]) return Default;
        return new DicomCharacterSet(trimmed, warnings.ToArray(), codec, isDefault);
    }

    /// <summary>The values of (0008,0005), trimmed, as given (unknown terms included).</summary>
    public IReadOnlyList<string> Terms { get; }

    /// <summary>Problems found in <see cref="Terms"/>, each with the interpretation used instead.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>True when text is read and written in the default repertoire only.</summary>
    public bool IsDefault { get; }

    /// <summary>
    /// Decodes a whole raw value (all values of a multi-valued element, with their '\' delimiters; padding is kept).
    /// <paramref name="vr"/> selects the delimiters at which ISO 2022 state resets. Malformed bytes become U+FFFD; never throws.
    /// </summary>
    public string Decode(ReadOnlySpan<byte> bytes, DicomVR vr) => _codec.Decode(bytes, vr);

    /// <summary>
    /// Encodes a whole value (values joined with '\'); no padding is added. Escape sequences are written as needed for ISO 2022
    /// sets. Characters that no declared set can represent become '?'.
    /// </summary>
    public byte[] Encode(string value, DicomVR vr) => _codec.Encode(value ?? "", vr);

    public override string ToString() => Terms.Count == 0 ? "ISO_IR 6 (default)" : string.Join('\\', Terms);
}
