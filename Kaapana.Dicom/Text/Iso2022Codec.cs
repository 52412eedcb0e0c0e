namespace Kaapana.Dicom;

/// <summary>
/// Codec for the default repertoire, the single-byte sets and ISO 2022 code extensions: a G0 set in GL (bytes 0x21..0x7E)
/// and a G1 set in GR (bytes 0xA0..0xFF). Without extensions the sets are fixed and escape bytes are plain data.
/// </summary>
internal sealed class Iso2022Codec : ITextCodec
{
    public Iso2022Codec(bool extensions, GraphicCharacterSet initialG0, GraphicCharacterSet? initialG1, IReadOnlyList<GraphicCharacterSet> declared)
    {
        Extensions = extensions;
        InitialG0 = initialG0;
        InitialG1 = initialG1;
        // Order matters when encoding: the first declared set that holds a character is the one designated for it.
        Declared = [.. declared.Distinct()];
        FallbackG1 = extensions ? Declared.FirstOrDefault(s => s.UsesG1) : null;
    }

    /// <summary>The default repertoire: ASCII only, no code extensions.</summary>
    public static Iso2022Codec DefaultRepertoire { get; } = new(false, GraphicCharacterSets.Ascii, null, [GraphicCharacterSets.Ascii]);

    /// <summary>Whether escape sequences are interpreted and written.</summary>
    public bool Extensions { get; }

    /// <summary>G0 at the start of every value and after every reset point; always ASCII-compatible.</summary>
    public GraphicCharacterSet InitialG0 { get; }

    public GraphicCharacterSet? InitialG1 { get; }

    public GraphicCharacterSet[] Declared { get; }

    /// <summary>
    /// Used for GR bytes while no G1 set is designated. Some writers designate a G1 set (e.g. KS X 1001) once per value rather
    /// than after every delimiter; the declared G1 set is the only sensible reading of those bytes.
    /// </summary>
    public GraphicCharacterSet? FallbackG1 { get; }

    public string Decode(ReadOnlySpan<byte> bytes, DicomVR vr) => Iso2022Decoder.Decode(this, bytes, vr);

    public byte[] Encode(string value, DicomVR vr) => Iso2022Encoder.Encode(this, value, vr);
}
