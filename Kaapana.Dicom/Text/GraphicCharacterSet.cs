namespace Kaapana.Dicom;

/// <summary>Shape of a graphic character set in ISO 2022 terms; decides which escape sequences can designate it.</summary>
internal enum GraphicSetShape : byte
{
    /// <summary>94 single-byte characters (codes 02/01..07/14).</summary>
    Single94,
    /// <summary>96 single-byte characters (codes 02/00..07/15); only ever designated to G1 and invoked into GR.</summary>
    Single96,
    /// <summary>94 x 94 two-byte characters.</summary>
    Double94,
}

/// <summary>
/// One graphic character set that ISO 2022 can designate to G0 or G1 (PS3.5 6.1.2.5, PS3.3 Table C.12-3/C.12-4).
/// Codes are 7-bit: the engine strips / adds the high bit depending on whether the set is invoked in GL or GR.
/// </summary>
internal abstract class GraphicCharacterSet
{
    protected GraphicCharacterSet(string name, GraphicSetShape shape, byte finalByte, bool usesG1)
    {
        Name = name;
        Shape = shape;
        FinalByte = finalByte;
        UsesG1 = usesG1;
        G0Designation = shape switch
        {
            GraphicSetShape.Single94 => [0x1B, (byte)'(', finalByte],
            // ESC $ F is the short form ISO 2022 keeps for the three oldest 94x94 sets; DICOM writes JIS X 0208 that way.
            GraphicSetShape.Double94 => finalByte is (byte)'@' or (byte)'A' or (byte)'B' ? [0x1B, (byte)'$', finalByte] : [0x1B, (byte)'$', (byte)'(', finalByte],
            _ => [],
        };
        G1Designation = shape switch
        {
            GraphicSetShape.Single94 => [0x1B, (byte)')', finalByte],
            GraphicSetShape.Single96 => [0x1B, (byte)'-', finalByte],
            _ => [0x1B, (byte)'$', (byte)')', finalByte],
        };
    }

    public string Name { get; }
    public GraphicSetShape Shape { get; }
    public byte FinalByte { get; }
    public bool IsDoubleByte => Shape == GraphicSetShape.Double94;

    /// <summary>Where DICOM places this set when writing: G1 (GR bytes) or G0 (GL bytes). See PS3.3 Table C.12-3/C.12-4.</summary>
    public bool UsesG1 { get; }

    public byte[] G0Designation { get; }
    public byte[] G1Designation { get; }

    /// <summary>True for the ASCII-compatible G0 sets (ISO 646 IRV, JIS X 0201 Roman) in which DICOM delimiters are recognised.</summary>
    public virtual bool IsAsciiCompatible => false;

    /// <summary>Character for a single-byte 7-bit code 0x20..0x7F, U+FFFD when undefined.</summary>
    public virtual char Decode(int code) => '\uFFFD';

    /// <summary>Character for a two-byte code, both bytes 7-bit 0x21..0x7E, U+FFFD when undefined.</summary>
    public virtual char Decode(int first, int second) => '\uFFFD';

    /// <summary>
    /// Code for <paramref name="c"/>: one 7-bit byte, or for double-byte sets (first &lt;&lt; 8 | second).
    /// Single-byte 96-sets also map the C1 controls U+0080..U+009F to codes 0x00..0x1F so GR bytes 0x80..0x9F round-trip.
    /// </summary>
    public abstract bool TryEncode(char c, out int code);

    public override string ToString() => Name;
}

/// <summary>A set that was designated by a well-formed escape sequence we do not know: its bytes decode to U+FFFD.</summary>
internal sealed class UnknownGraphicSet(GraphicSetShape shape, byte finalByte)
    : GraphicCharacterSet($"unknown ({(char)finalByte})", shape, finalByte, usesG1: shape != GraphicSetShape.Single94)
{
    public override bool TryEncode(char c, out int code)
    {
        code = 0;
        return false;
    }
}
