using System.Collections.Frozen;
using System.Text;

namespace Kaapana.Dicom;

/// <summary>
/// A 94x94 two-byte set (JIS X 0208, JIS X 0212, KS X 1001, GB 2312). The table is read once, lazily, from a .NET EUC-style
/// code page by setting the high bits of the 7-bit code (the GR form those code pages use).
/// </summary>
internal sealed class DoubleByteCharacterSet : GraphicCharacterSet
{
    private readonly Lazy<Tables> _tables;

    /// <param name="toCodePageBytes">Maps a 7-bit code pair to the bytes the code page expects.</param>
    /// <param name="isStandardCode">False for code points that only the code page's vendor extension defines: they still decode
    /// (real data from such systems exists) but are never written, so our output stays within the standard repertoire.</param>
    /// <param name="overrides">Codes where the code page's mapping differs from the ISO/Unicode mapping used by iconv.</param>
    public DoubleByteCharacterSet(string name, byte finalByte, bool usesG1, int codePage, Func<int, int, byte[]> toCodePageBytes,
        Func<int, int, bool> isStandardCode, params (int Code, char Char)[] overrides)
        : base(name, GraphicSetShape.Double94, finalByte, usesG1)
    {
        _tables = new Lazy<Tables>(() => Build(codePage, toCodePageBytes, isStandardCode, overrides), LazyThreadSafetyMode.PublicationOnly);
    }

    public override char Decode(int first, int second) =>
        first is >= 0x21 and <= 0x7E && second is >= 0x21 and <= 0x7E ? _tables.Value.Chars[(first - 0x21) * 94 + second - 0x21] : '\uFFFD';

    public override bool TryEncode(char c, out int code) => _tables.Value.Codes.TryGetValue(c, out code);

    private sealed record Tables(char[] Chars, FrozenDictionary<char, int> Codes);

    private static Tables Build(int codePage, Func<int, int, byte[]> toBytes, Func<int, int, bool> isStandard, (int Code, char Char)[] overrides)
    {
        var encoding = CodePageSource.TryGet(codePage);
        var chars = new char[94 * 94];
        Array.Fill(chars, '\uFFFD');
        var codes = new Dictionary<char, int>();
        var overridden = overrides.ToDictionary(o => o.Code, o => o.Char);
        for (int first = 0x21; first <= 0x7E; first++)
        {
            for (int second = 0x21; second <= 0x7E; second++)
            {
                int code = first << 8 | second;
                if (!overridden.TryGetValue(code, out char c))
                {
                    if (encoding is null) continue;
                    var bytes = toBytes(first, second);
                    var s = encoding.GetString(bytes);
                    // A single non-PUA character that encodes back to the same bytes: anything else is the code page's
                    // "default character" or a vendor area standing in for an undefined code.
                    if (s.Length != 1 || s[0] == '\uFFFD' || CodePageSource.IsPrivateUse(s[0])) continue;
                    c = s[0];
                    if (!encoding.GetBytes(s).AsSpan().SequenceEqual(bytes)) continue;
                }
                chars[(first - 0x21) * 94 + second - 0x21] = c;
                if (isStandard(first, second)) codes.TryAdd(c, code);
            }
        }
        return new Tables(chars, codes.ToFrozenDictionary());
    }
}
