using System.Collections.Frozen;

namespace Kaapana.Dicom;

/// <summary>A 94- or 96-character single-byte set held as a 96-entry table over the 7-bit codes 0x20..0x7F.</summary>
internal sealed class SingleByteCharacterSet : GraphicCharacterSet
{
    private readonly char[] _chars; // index = code - 0x20
    private readonly FrozenDictionary<char, int> _codes;
    private readonly bool _asciiCompatible;

    private SingleByteCharacterSet(string name, GraphicSetShape shape, byte finalByte, bool usesG1, char[] chars, bool asciiCompatible)
        : base(name, shape, finalByte, usesG1)
    {
        _chars = chars;
        _asciiCompatible = asciiCompatible;
        var codes = new Dictionary<char, int>();
        for (int i = 0; i < chars.Length; i++)
            if (chars[i] != '\uFFFD') codes.TryAdd(chars[i], i + 0x20);
        if (shape == GraphicSetShape.Single96)
        {
            // ISO 8859 parts include the C1 control range 0x80..0x9F; keeping it lossless matches iconv and lets such bytes round-trip.
            for (int c = 0x80; c < 0xA0; c++) codes.TryAdd((char)c, c - 0x80);
        }
        _codes = codes.ToFrozenDictionary();
    }

    public override bool IsAsciiCompatible => _asciiCompatible;

    /// <summary>An ISO 646 style G0 set. JIS X 0201 Roman is deliberately decoded like ASCII: 05/12 must stay the DICOM value
    /// delimiter (PS3.5 6.1.2.3 — a yen glyph is a display matter), and 07/14 then has to follow for the set to stay consistent.</summary>
    public static SingleByteCharacterSet AsciiLike(string name, byte finalByte)
    {
        var chars = new char[96];
        for (int i = 0; i < 96; i++) chars[i] = i is 0 or 95 ? '\uFFFD' : (char)(i + 0x20);
        return new SingleByteCharacterSet(name, GraphicSetShape.Single94, finalByte, usesG1: false, chars, asciiCompatible: true);
    }

    /// <summary>A G1 set whose characters come from a function of the GR byte (0xA0..0xFF); U+FFFD marks gaps.</summary>
    public static SingleByteCharacterSet FromFunction(string name, GraphicSetShape shape, byte finalByte, Func<int, char> grByteToChar)
    {
        var chars = new char[96];
        for (int i = 0; i < 96; i++) chars[i] = grByteToChar(0xA0 + i);
        if (shape == GraphicSetShape.Single94) chars[0] = chars[95] = '\uFFFD';
        return new SingleByteCharacterSet(name, shape, finalByte, usesG1: true, chars, asciiCompatible: false);
    }

    /// <summary>
    /// The right half (0xA0..0xFF) of an ISO 8859 code page. Windows maps undefined bytes into the Private Use Area; those become U+FFFD.
    /// <paramref name="overrides"/> patch positions where .NET's table predates the ISO/Unicode mapping that iconv (and so DCMTK) uses.
    /// </summary>
    public static SingleByteCharacterSet FromCodePage(string name, byte finalByte, int codePage, params (byte Byte, char Char)[] overrides)
    {
        var encoding = CodePageSource.TryGet(codePage);
        var map = new char[96];
        for (int i = 0; i < 96; i++)
        {
            char c = '\uFFFD';
            if (encoding is not null)
            {
                var s = encoding.GetString([(byte)(0xA0 + i)]);
                if (s.Length == 1 && !CodePageSource.IsPrivateUse(s[0])) c = s[0];
            }
            map[i] = c;
        }
        foreach (var (b, ch) in overrides) map[b - 0xA0] = ch;
        return FromFunction(name, GraphicSetShape.Single96, finalByte, gr => map[gr - 0xA0]);
    }

    public override char Decode(int code) => code is >= 0x20 and <= 0x7F ? _chars[code - 0x20] : '\uFFFD';

    public override bool TryEncode(char c, out int code) => _codes.TryGetValue(c, out code);
}
