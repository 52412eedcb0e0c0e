using System.Collections.Frozen;
using System.Text;

namespace Kaapana.Dicom;

/// <summary>How a defined term of (0008,0005) selects characters (PS3.3 C.12.1.1.2).</summary>
internal enum TermKind : byte
{
    /// <summary>The default repertoire (ISO-IR 6).</summary>
    Default,
    /// <summary>Table C.12-2: single-byte set without code extensions ("ISO_IR 100").</summary>
    SingleByte,
    /// <summary>Tables C.12-3 / C.12-4: a set used with ISO 2022 code extensions ("ISO 2022 IR 100", "ISO 2022 IR 87").</summary>
    Extension,
    /// <summary>Table C.12-5: UTF-8, GB18030, GBK; no code extensions possible.</summary>
    WholeValue,
}

/// <summary>The encodings of Table C.12-5, which convert whole values.</summary>
internal enum WholeValueEncoding : byte
{
    None,
    Utf8,
    Gb18030,
    Gbk,
}

/// <summary>One defined term: its G0 / G1 sets (G0 may be a two-byte set such as JIS X 0208), or a whole-value encoding.</summary>
internal sealed record DefinedTerm(string Term, TermKind Kind, GraphicCharacterSet? G0, GraphicCharacterSet? G1,
    WholeValueEncoding WholeValue = WholeValueEncoding.None)
{
    /// <summary>The "ISO 2022 IR nnn" term with the same sets, for single-byte terms misused alongside code extensions.</summary>
    public DefinedTerm? ExtensionForm { get; init; }
}

/// <summary>The defined terms of PS3.3 C.12.1.1.2 and the lenient spellings accepted for them.</summary>
internal static class DefinedTerms
{
    private static readonly FrozenDictionary<string, DefinedTerm> ByTerm;
    private static readonly FrozenDictionary<string, DefinedTerm> ByLooseKey;

    static DefinedTerms()
    {
        var ascii = GraphicCharacterSets.Ascii;
        var terms = new List<DefinedTerm>
        {
            new("ISO 2022 IR 87", TermKind.Extension, GraphicCharacterSets.JisX0208, null),
            new("ISO 2022 IR 159", TermKind.Extension, GraphicCharacterSets.JisX0212, null),
            new("ISO 2022 IR 149", TermKind.Extension, null, GraphicCharacterSets.KsX1001),
            new("ISO 2022 IR 58", TermKind.Extension, null, GraphicCharacterSets.Gb2312),
            new("ISO_IR 192", TermKind.WholeValue, null, null, WholeValueEncoding.Utf8),
            new("GB18030", TermKind.WholeValue, null, null, WholeValueEncoding.Gb18030),
            new("GBK", TermKind.WholeValue, null, null, WholeValueEncoding.Gbk),
        };
        (string Number, GraphicCharacterSet G0, GraphicCharacterSet? G1)[] singleByte =
        [
            ("6", ascii, null), ("100", ascii, GraphicCharacterSets.Latin1), ("101", ascii, GraphicCharacterSets.Latin2),
            ("109", ascii, GraphicCharacterSets.Latin3), ("110", ascii, GraphicCharacterSets.Latin4), ("144", ascii, GraphicCharacterSets.Cyrillic),
            ("127", ascii, GraphicCharacterSets.Arabic), ("126", ascii, GraphicCharacterSets.Greek), ("138", ascii, GraphicCharacterSets.Hebrew),
            ("148", ascii, GraphicCharacterSets.Latin5), ("203", ascii, GraphicCharacterSets.Latin9),
            ("13", GraphicCharacterSets.JisRoman, GraphicCharacterSets.JisKatakana), ("166", ascii, GraphicCharacterSets.Thai),
        ];
        foreach (var (number, g0, g1) in singleByte)
        {
            var extension = new DefinedTerm("ISO 2022 IR " + number, TermKind.Extension, g0, g1);
            terms.Add(extension);
            // "ISO_IR 6" is not a defined term (the default is written as an absent value) but is common and unambiguous.
            terms.Add(new DefinedTerm("ISO_IR " + number, number == "6" ? TermKind.Default : TermKind.SingleByte, g0, g1) { ExtensionForm = extension });
        }
        ByTerm = terms.ToFrozenDictionary(t => t.Term, StringComparer.Ordinal);

        var loose = terms.ToDictionary(t => LooseKey(t.Term));
        // Misspellings seen in the wild that have a single sensible reading.
        loose["UTF8"] = ByTerm["ISO_IR 192"];
        foreach (var number in new[] { "87", "159", "149", "58" })
            loose["ISOIR" + number] = ByTerm["ISO 2022 IR " + number]; // e.g. Korean devices writing "ISO_IR 149" for EUC-KR
        ByLooseKey = loose.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public static DefinedTerm? Find(string term) => ByTerm.GetValueOrDefault(term);

    /// <summary>Match ignoring case, spaces, '_' and '-': "iso-ir 100", "ISO_IR100", "ISO IR 149".</summary>
    public static DefinedTerm? FindLoose(string term) => ByLooseKey.GetValueOrDefault(LooseKey(term));

    private static string LooseKey(string term)
    {
        var sb = new StringBuilder(term.Length);
        foreach (char c in term)
            if (char.IsAsciiLetterOrDigit(c)) sb.Append(char.ToUpperInvariant(c));
        return sb.ToString();
    }
}
