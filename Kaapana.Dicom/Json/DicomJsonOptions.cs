namespace Kaapana.Dicom.Json;

/// <summary>How IS and DS values are written (PS3.18 Table F.2.3-1 allows a JSON Number or, since CP-1861, a JSON String).</summary>
public enum DicomJsonNumberStrings
{
    /// <summary>
    /// A JSON Number carrying the value's own text unchanged (so <c>0.000000</c> stays <c>0.000000</c>), as DCMTK and pydicom do.
    /// A value that is not a valid JSON number (<c>+1</c>, <c>.5</c>, <c>007</c>, <c>1.</c>, overflow, garbage) is written as a
    /// JSON String holding the original text, so nothing is lost and the value still round-trips byte for byte.
    /// </summary>
    Number,

    /// <summary>Always a JSON String with the original text (dcm4che's default; no precision questions for any consumer).</summary>
    String,
}

/// <summary>Options of <see cref="DicomJsonWriter"/>.</summary>
public sealed record DicomJsonWriteOptions
{
    public static DicomJsonWriteOptions Default { get; } = new();

    /// <summary>
    /// Called for every non-sequence element (and for encapsulated pixel data). A non-null result is written as
    /// <c>"BulkDataURI"</c> instead of the value. Return null for everything that should be written inline; a typical
    /// provider answers only for <see cref="DicomVRInfo.IsBulk"/> VRs and encapsulated pixel data.
    /// Elements read from JSON whose value is an unresolved <see cref="BulkDataUriBuffer"/> keep their URI when the
    /// provider returns null (or there is none).
    /// </summary>
    public Func<DicomElement, string?>? BulkDataUriProvider { get; init; }

    /// <summary>
    /// Binary values (OB, OD, OF, OL, OV, OW, UN and encapsulated pixel data) longer than this many bytes that get no
    /// BulkDataURI are left out: the whole attribute is omitted, because an attribute with only a "vr" would claim that the
    /// value is empty. Values up to the threshold are written as <c>"InlineBinary"</c> (base64).
    /// The default, <see cref="long.MaxValue"/>, inlines everything: serialisation is lossless by default (as dcm2json and
    /// pydicom do). DICOMweb metadata responses should set a <see cref="BulkDataUriProvider"/>, and QIDO-RS style
    /// responses a small threshold (e.g. 0) to leave bulk data out.
    /// </summary>
    public long InlineBinaryThreshold { get; init; } = long.MaxValue;

    /// <summary>Write group length elements (gggg,0000). PS3.18 F.2 leaves them out; so does the default.</summary>
    public bool IncludeGroupLength { get; init; }

    /// <summary>
    /// Non-standard: use the dictionary keyword (e.g. <c>PatientName</c>) as the member name instead of the 8 hex digits,
    /// for standard (non-private, non-repeating) attributes. Readers need <see cref="DicomJsonReadOptions.AcceptKeywords"/>.
    /// </summary>
    public bool WriteKeywords { get; init; }

    /// <summary>How IS and DS values are written; see <see cref="DicomJsonNumberStrings"/>.</summary>
    public DicomJsonNumberStrings NumberStrings { get; init; } = DicomJsonNumberStrings.Number;

    /// <summary>
    /// SV and UV values outside ±2^53 are written as JSON Strings (decimal text) so that JavaScript-style consumers,
    /// which hold JSON numbers as IEEE doubles, do not round them. PS3.18 Table F.2.3-1 allows Number or String for SV/UV.
    /// When false they are always JSON Numbers (exact digits).
    /// </summary>
    public bool LargeIntegersAsStrings { get; init; } = true;

    /// <summary>
    /// JSON text is Unicode: every string is decoded with the character set that applies to it (nested items may have their
    /// own). When true (the default, and what DCMTK's dcm2json does) each non-empty Specific Character Set (0008,0005) is
    /// written as <c>ISO_IR 192</c> so the JSON describes the data set transcoded to UTF-8 and a consumer that stores the
    /// strings as UTF-8 labels them correctly. When false the original defined terms are written unchanged (pydicom's
    /// behaviour); the strings are still Unicode.
    /// </summary>
    public bool RelabelCharacterSetAsUtf8 { get; init; } = true;
}

/// <summary>Options of <see cref="DicomJsonReader"/>.</summary>
public sealed record DicomJsonReadOptions
{
    public static DicomJsonReadOptions Default { get; } = new();

    /// <summary>
    /// Turns a <c>"BulkDataURI"</c> into the value's bytes (little endian, as every <see cref="DicomBuffer"/>).
    /// Without a resolver, or when it returns null, the element keeps a <see cref="BulkDataUriBuffer"/> that remembers the URI.
    /// Exceptions thrown by the resolver propagate unchanged.
    /// </summary>
    public Func<string, DicomBuffer?>? BulkDataResolver { get; init; }

    /// <summary>Sequence nesting limit; deeper input is rejected with <see cref="DicomJsonException"/> instead of risking a stack overflow.</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Non-standard: also accept dictionary keywords as member names (what <see cref="DicomJsonWriteOptions.WriteKeywords"/> writes).</summary>
    public bool AcceptKeywords { get; init; }
}
