namespace Kaapana.Dicom;

/// <summary>
/// The graphic character sets DICOM names in (0008,0005) (PS3.3 Table C.12-2..C.12-4), with their ISO 2022 final bytes.
/// </summary>
internal static class GraphicCharacterSets
{
    public static readonly SingleByteCharacterSet Ascii = SingleByteCharacterSet.AsciiLike("ISO 646 IRV (ASCII)", (byte)'B');
    public static readonly SingleByteCharacterSet JisRoman = SingleByteCharacterSet.AsciiLike("JIS X 0201 Roman", (byte)'J');

    // JIS X 0201 katakana: 0xA1..0xDF are the half-width katakana U+FF61..U+FF9F, in the same order.
    public static readonly SingleByteCharacterSet JisKatakana = SingleByteCharacterSet.FromFunction("JIS X 0201 Katakana",
        GraphicSetShape.Single94, (byte)'I', b => b is >= 0xA1 and <= 0xDF ? (char)(0xFF61 + b - 0xA1) : '\uFFFD');

    public static readonly SingleByteCharacterSet Latin1 = SingleByteCharacterSet.FromFunction("ISO 8859-1",
        GraphicSetShape.Single96, (byte)'A', b => (char)b);
    public static readonly SingleByteCharacterSet Latin2 = SingleByteCharacterSet.FromCodePage("ISO 8859-2", (byte)'B', 28592);
    public static readonly SingleByteCharacterSet Latin3 = SingleByteCharacterSet.FromCodePage("ISO 8859-3", (byte)'C', 28593);
    public static readonly SingleByteCharacterSet Latin4 = SingleByteCharacterSet.FromCodePage("ISO 8859-4", (byte)'D', 28594);
    public static readonly SingleByteCharacterSet Cyrillic = SingleByteCharacterSet.FromCodePage("ISO 8859-5", (byte)'L', 28595);
    public static readonly SingleByteCharacterSet Arabic = SingleByteCharacterSet.FromCodePage("ISO 8859-6", (byte)'G', 28596);

    // .NET's 28597 is the 1987 table with the apostrophes as modifier letters; iconv/Unicode use the 2003 table (quotes, euro, drachma, ypogegrammeni).
    public static readonly SingleByteCharacterSet Greek = SingleByteCharacterSet.FromCodePage("ISO 8859-7", (byte)'F', 28597,
        (0xA1, '\u2018'), (0xA2, '\u2019'), (0xA4, '\u20AC'), (0xA5, '\u20AF'), (0xAA, '\u037A'));

    // .NET's 28598 maps 0xAF to OVERLINE and lacks the bidi marks of ISO 8859-8:1999.
    public static readonly SingleByteCharacterSet Hebrew = SingleByteCharacterSet.FromCodePage("ISO 8859-8", (byte)'H', 28598,
        (0xAF, '\u00AF'), (0xFD, '\u200E'), (0xFE, '\u200F'));

    public static readonly SingleByteCharacterSet Latin5 = SingleByteCharacterSet.FromCodePage("ISO 8859-9", (byte)'M', 28599);
    public static readonly SingleByteCharacterSet Latin9 = SingleByteCharacterSet.FromCodePage("ISO 8859-15", (byte)'b', 28605);

    // TIS-620 / ISO 8859-11 is a straight offset into the Thai block; no code page needed (874 adds Windows extras in 0x80..0x9F).
    public static readonly SingleByteCharacterSet Thai = SingleByteCharacterSet.FromFunction("TIS 620-2533 (ISO 8859-11)",
        GraphicSetShape.Single96, (byte)'T',
        b => b == 0xA0 ? '\u00A0' : b is >= 0xA1 and <= 0xDA or >= 0xDF and <= 0xFB ? (char)(0x0E00 + b - 0xA0) : '\uFFFD');

    private static byte[] BothHigh(int first, int second) => [(byte)(first | 0x80), (byte)(second | 0x80)];

    // Code page 20932 uses the JIS mapping of the symbols (WAVE DASH U+301C etc.) that iconv and the DICOM examples use;
    // 51932 / 932 use Microsoft's (FULLWIDTH TILDE U+FF5E). Row 13 holds NEC extensions that strict readers reject.
    public static readonly DoubleByteCharacterSet JisX0208 = new("JIS X 0208", (byte)'B', usesG1: false, 20932, BothHigh,
        isStandardCode: (first, _) => first != 0x2D);

    // 20932 stores JIS X 0212 as a GR lead byte and a GL trail byte (no 0x8F prefix); rows 0x73.. are IBM extensions.
    public static readonly DoubleByteCharacterSet JisX0212 = new("JIS X 0212", (byte)'D', usesG1: false, 20932,
        (first, second) => [(byte)(first | 0x80), (byte)second],
        isStandardCode: (first, _) => first < 0x73,
        (0x2237, '\uFF5E'), (0x2271, '\u2116'));

    // 949 (UHC) equals EUC-KR inside the 94x94 GR area; only the 2002 POSTAL MARK FACE is missing there.
    public static readonly DoubleByteCharacterSet KsX1001 = new("KS X 1001", (byte)'C', usesG1: true, 949, BothHigh,
        isStandardCode: (_, _) => true,
        (0x2268, '\u327E'));

    // 936 (GBK) is a superset of GB 2312; the GBK-only cells in the GB 2312 area decode but are not written, and two
    // punctuation marks follow the GB 2312 mapping (as iconv does) instead of GBK's.
    public static readonly DoubleByteCharacterSet Gb2312 = new("GB 2312", (byte)'A', usesG1: true, 936, BothHigh,
        isStandardCode: (first, second) => !(first == 0x22 && second <= 0x2A) && !(first == 0x26 && second >= 0x60)
            && !(first == 0x28 && second is >= 0x3B and <= 0x40),
        (0x2124, '\u30FB'), (0x212A, '\u2015'));

    /// <summary>Set designated by an escape with final byte <paramref name="finalByte"/>; an <see cref="UnknownGraphicSet"/> otherwise.</summary>
    public static GraphicCharacterSet ByFinalByte(GraphicSetShape shape, byte finalByte) => (shape, (char)finalByte) switch
    {
        (GraphicSetShape.Single94, 'B') => Ascii,
        (GraphicSetShape.Single94, 'J') => JisRoman,
        (GraphicSetShape.Single94, 'I') => JisKatakana,
        (GraphicSetShape.Single96, 'A') => Latin1,
        (GraphicSetShape.Single96, 'B') => Latin2,
        (GraphicSetShape.Single96, 'C') => Latin3,
        (GraphicSetShape.Single96, 'D') => Latin4,
        (GraphicSetShape.Single96, 'L') => Cyrillic,
        (GraphicSetShape.Single96, 'G') => Arabic,
        (GraphicSetShape.Single96, 'F') => Greek,
        (GraphicSetShape.Single96, 'H') => Hebrew,
        (GraphicSetShape.Single96, 'M') => Latin5,
        (GraphicSetShape.Single96, 'b') => Latin9,
        (GraphicSetShape.Single96, 'T') => Thai,
        // '@' is JIS C 6226-1978, the predecessor of JIS X 0208; old Japanese writers still emit it.
        (GraphicSetShape.Double94, '@' or 'B') => JisX0208,
        (GraphicSetShape.Double94, 'D') => JisX0212,
        (GraphicSetShape.Double94, 'C') => KsX1001,
        (GraphicSetShape.Double94, 'A') => Gb2312,
        _ => new UnknownGraphicSet(shape, finalByte),
    };
}
