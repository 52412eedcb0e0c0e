using System.Text;

namespace Kaapana.Dicom.Network.Query;

/// <summary>The kind of attribute matching a key asks for (PS3.4 C.2.2.2).</summary>
public enum QueryMatchKind
{
    /// <summary>Zero-length value (or only <c>*</c>): every entity matches; the key is a return key.</summary>
    Universal,
    /// <summary>One value, no wildcards (for DA/TM/DT: one value, no <c>-</c>).</summary>
    SingleValue,
    /// <summary>Several UIDs separated by backslash; any one matches.</summary>
    ListOfUid,
    /// <summary>A value with <c>*</c> and/or <c>?</c> (not for DA, TM, DT, UI and non-text VRs).</summary>
    Wildcard,
    /// <summary>DA, TM or DT range <c>a-b</c>, <c>-b</c> or <c>a-</c>.</summary>
    Range,
    /// <summary>Several values (VM &gt; 1) of a non-UID key; an entity matches if any one term matches.</summary>
    MultipleValues,
    /// <summary>The value <c>""</c>: only entities whose attribute is empty or absent match.</summary>
    EmptyValue,
    /// <summary>A sequence with one item of keys: an entity matches if any of its items matches all of them.</summary>
    Sequence,
}

/// <summary>The format of the bounds of a <see cref="RangeTerm"/>; all compare correctly as ordinal strings.</summary>
public enum QueryRangeFormat
{
    /// <summary><c>yyyyMMdd</c> (8 characters).</summary>
    Date,
    /// <summary><c>HHmmss.ffffff</c> (13 characters).</summary>
    Time,
    /// <summary><c>yyyyMMddHHmmss.ffffff</c> (21 characters), converted to UTC when the offset is known.</summary>
    DateTime,
}

/// <summary>One alternative of a key; a key with several terms matches when any term matches.</summary>
public abstract record QueryTerm;

/// <summary>
/// Single value (or one UID of a list). The value is as given, without padding; for PN it is normalized
/// (<see cref="QueryValues.NormalizePersonName"/>) and, for case-insensitive matching, upper-cased.
/// For IS, DS and binary numeric VRs the comparison is numeric.
/// </summary>
public sealed record ValueTerm(string Value) : QueryTerm;

/// <summary>A pattern where <c>*</c> matches any sequence of characters (also none) and <c>?</c> exactly one.</summary>
public sealed record WildcardTerm(string Pattern) : QueryTerm
{
    /// <summary>
    /// The pattern as a SQL <c>LIKE</c> operand: <c>*</c> → <c>%</c>, <c>?</c> → <c>_</c>, and literal <c>%</c>, <c>_</c> and the
    /// escape character escaped with <paramref name="escape"/> (use it in <c>LIKE … ESCAPE '\'</c>).
    /// </summary>
    public string ToSqlLike(char escape = '\\')
    {
        var sb = new StringBuilder(Pattern.Length + 4);
        foreach (var c in Pattern)
        {
            switch (c)
            {
                case '*': sb.Append('%'); break;
                case '?': sb.Append('_'); break;
                case '%' or '_': sb.Append(escape).Append(c); break;
                default:
                    if (c == escape) sb.Append(escape);
                    sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>The literal text before the first wildcard: an index can answer <c>LIKE 'prefix%'</c> with a range scan.</summary>
    public string LiteralPrefix => Pattern[..(Pattern.IndexOfAny(['*', '?']) is var i and >= 0 ? i : Pattern.Length)];

    /// <summary>Whole-string wildcard match (ordinal; both sides already upper-cased for case-insensitive matching).</summary>
    public bool IsMatch(string value) => Wildcard.IsMatch(Pattern, value);
}

/// <summary>
/// An inclusive range over normalized values (<see cref="QueryValues"/>): null bound = open. A single DA/TM/DT value is a range
/// too, covering its precision (TM <c>10</c> is 10:00:00–10:59:59.999999). With <see cref="TimeTag"/> set, this is a combined
/// date-time range (PS3.4 C.2.2.2.5.x): the key's date attribute and that time attribute are compared together in
/// <see cref="QueryRangeFormat.DateTime"/> form, and the time key itself does not match on its own.
/// </summary>
public sealed record RangeTerm(string? Lower, string? Upper, QueryRangeFormat Format) : QueryTerm
{
    public DicomTag? TimeTag { get; init; }

    public bool Contains(string normalized) =>
        (Lower is null || string.CompareOrdinal(normalized, Lower) >= 0) && (Upper is null || string.CompareOrdinal(normalized, Upper) <= 0);

    /// <summary>True when the candidate interval [<paramref name="from"/>, <paramref name="to"/>] overlaps this range.</summary>
    public bool Overlaps(string from, string to) =>
        (Lower is null || string.CompareOrdinal(to, Lower) >= 0) && (Upper is null || string.CompareOrdinal(from, Upper) <= 0);
}

/// <summary>
/// One key of a query identifier, parsed: what to match and how. This is the form a database layer translates to SQL
/// (one predicate per non-universal key: the OR of its <see cref="Terms"/>), and the one C-FIND and QIDO-RS share.
/// </summary>
public sealed record QueryKey(DicomTag Tag, DicomVR VR, QueryMatchKind Kind)
{
    /// <summary>Alternatives, any of which matches; empty for Universal, EmptyValue and Sequence.</summary>
    public IReadOnlyList<QueryTerm> Terms { get; init; } = [];

    /// <summary>For <see cref="QueryMatchKind.Sequence"/> (and a universal sequence key with an item): the keys of its item.</summary>
    public IReadOnlyList<QueryKey> ItemKeys { get; init; } = [];

    /// <summary>Text comparison ignores case (PN keys when <see cref="QueryMatchOptions.PersonNameCaseInsensitive"/>): terms are upper-cased.</summary>
    public bool IgnoreCase { get; init; }

    /// <summary>The PS3.6 keyword, or the tag for unknown attributes.</summary>
    public string Name => DicomDictionary.Lookup(Tag)?.Keyword ?? Tag.ToString();

    public bool IsUniversal => Kind == QueryMatchKind.Universal;

    public override string ToString() => Kind switch
    {
        QueryMatchKind.Universal => $"{Name}: universal",
        QueryMatchKind.EmptyValue => $"{Name}: empty",
        QueryMatchKind.Sequence => $"{Name}: any item matches [{string.Join("; ", ItemKeys)}]",
        _ => $"{Name} {Kind}: {string.Join(" | ", Terms.Select(Describe))}{(IgnoreCase ? " (ignore case)" : "")}",
    };

    private static string Describe(QueryTerm t) => t switch
    {
        ValueTerm v => $"= '{v.Value}'",
        WildcardTerm w => $"like '{w.Pattern}'",
        RangeTerm r => $"{r.Lower ?? "-inf"} .. {r.Upper ?? "+inf"}{(r.TimeTag is { } tt ? $" (with {DicomDictionary.Lookup(tt)?.Keyword ?? tt.ToString()})" : "")}",
        _ => t.ToString() ?? "",
    };
}

/// <summary>Wildcard matching on Unicode scalar values (a <c>?</c> matches one character even outside the BMP).</summary>
internal static class Wildcard
{
    public static bool IsMatch(string pattern, string value)
    {
        var p = ToRunes(pattern);
        var v = ToRunes(value);
        int pi = 0, vi = 0, star = -1, mark = 0;
        while (vi < v.Length)
        {
            if (pi < p.Length && (p[pi] == '?' || (p[pi] != '*' && p[pi] == v[vi])))
            {
                pi++;
                vi++;
            }
            else if (pi < p.Length && p[pi] == '*')
            {
                star = pi++;
                mark = vi;
            }
            else if (star >= 0)
            {
                pi = star + 1;
                vi = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (pi < p.Length && p[pi] == '*') pi++;
        return pi == p.Length;
    }

    private static int[] ToRunes(string s)
    {
        var list = new List<int>(s.Length);
        foreach (var r in s.EnumerateRunes()) list.Add(r.Value);
        return [.. list];
    }
}
