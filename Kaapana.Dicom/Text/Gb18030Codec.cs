using System.Collections.Frozen;
using System.Text;

namespace Kaapana.Dicom;

/// <summary>
/// GB18030 for the whole value (code page 54936). Its multi-byte sequences may contain 0x5C, so values are decoded before
/// they are split at '\' (PS3.5 6.1.2.3).
/// </summary>
internal sealed class Gb18030Codec : ITextCodec
{
    public const int CodePage = 54936;

    private static readonly Encoding? Gb18030 = CodePageSource.TryGet(CodePage);

    /// <summary>
    /// .NET implements the GB18030-2000 table. GB18030-2005 (A8BC) and GB18030-2022 (vertical forms, eight CJK ideographs)
    /// moved 19 characters out of the Private Use Area by swapping them with the four-byte codes of the real characters,
    /// so applying the swap to .NET's mapping yields the current one, which iconv (and hence DCMTK) also uses.
    /// </summary>
    private static readonly FrozenDictionary<char, char> Swap = BuildSwap(
        ('\uE78D', '\uFE10'), ('\uE78E', '\uFE12'), ('\uE78F', '\uFE11'), ('\uE790', '\uFE13'), ('\uE791', '\uFE14'),
        ('\uE792', '\uFE15'), ('\uE793', '\uFE16'), ('\uE794', '\uFE17'), ('\uE795', '\uFE18'), ('\uE796', '\uFE19'),
        ('\uE7C7', '\u1E3F'), ('\uE81E', '\u9FB4'), ('\uE826', '\u9FB5'), ('\uE82B', '\u9FB6'), ('\uE82C', '\u9FB7'),
        ('\uE832', '\u9FB8'), ('\uE843', '\u9FB9'), ('\uE854', '\u9FBA'), ('\uE864', '\u9FBB'));

    public string Decode(ReadOnlySpan<byte> bytes, DicomVR vr)
    {
        if (bytes.IsEmpty) return "";
        if (Gb18030 is null) return new string('\uFFFD', bytes.Length);
        return ApplySwap(Gb18030.GetString(bytes));
    }

    public byte[] Encode(string value, DicomVR vr) => Gb18030?.GetBytes(ApplySwap(value)) ?? Encoding.ASCII.GetBytes(value);

    private static string ApplySwap(string text)
    {
        if (text.AsSpan().IndexOfAnyInRange('\u1E3F', '\uFE19') < 0) return text; // nothing to swap in the common case
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++) span[i] = Swap.GetValueOrDefault(source[i], source[i]);
        });
    }

    private static FrozenDictionary<char, char> BuildSwap(params (char Old, char Current)[] pairs)
    {
        var map = new Dictionary<char, char>();
        foreach (var (old, current) in pairs)
        {
            map[old] = current;
            map[current] = old;
        }
        return map.ToFrozenDictionary();
    }
}
