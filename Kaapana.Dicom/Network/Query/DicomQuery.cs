using System.Globalization;

namespace Kaapana.Dicom.Network.Query;

/// <summary>
/// A C-FIND (or QIDO-RS) identifier parsed into <see cref="QueryKey"/>s: decides whether a candidate data set matches
/// (PS3.4 C.2.2.2 attribute matching) and builds the response identifier for a match (PS3.4 C.4.1.1.3.2).
/// A candidate is a data set holding the entity's attributes, those of the levels above included (e.g. an index record
/// of a series with its study and patient attributes). Immutable and thread-safe once parsed.
/// </summary>
public sealed class DicomQuery
{
    private readonly Dictionary<DicomTag, QueryKey> _byTag;

    private DicomQuery(DicomDataset identifier, QueryRetrieveLevel? level, IReadOnlyList<QueryKey> keys, QueryMatchOptions options)
    {
        Identifier = identifier;
        Level = level;
        Keys = keys;
        Options = options;
        _byTag = keys.ToDictionary(k => k.Tag);
    }

    /// <summary>The identifier as received.</summary>
    public DicomDataset Identifier { get; }

    /// <summary>Query/Retrieve Level (0008,0052), when the identifier has a valid one (QIDO-RS queries have none).</summary>
    public QueryRetrieveLevel? Level { get; }

    /// <summary>Every key of the identifier, return keys included, in tag order; not Specific Character Set or Query/Retrieve Level.</summary>
    public IReadOnlyList<QueryKey> Keys { get; }

    /// <summary>The keys that restrict the result (everything but universal matching).</summary>
    public IEnumerable<QueryKey> MatchingKeys => Keys.Where(k => !k.IsUniversal);

    public QueryMatchOptions Options { get; }

    public QueryKey? this[DicomTag tag] => _byTag.GetValueOrDefault(tag);

    /// <summary>Attributes that describe the query or the response rather than the entity: never matched on.</summary>
    private static readonly HashSet<DicomTag> ReturnOnly =
    [
        DicomTags.RetrieveAETitle, DicomTags.InstanceAvailability, DicomTags.QueryRetrieveView, DicomTags.TimezoneOffsetFromUTC,
        DicomTags.StorageMediaFileSetID, DicomTags.StorageMediaFileSetUID,
    ];

    private static readonly HashSet<DicomTag> NotKeys = [DicomTags.SpecificCharacterSet, DicomTags.QueryRetrieveLevel];

    /// <summary>Parses an identifier. Throws <see cref="DicomQueryException"/> for malformed keys (bad date, bad range, several sequence items).</summary>
    public static DicomQuery Parse(DicomDataset identifier, QueryMatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        options ??= QueryMatchOptions.Default;
        QueryRetrieveLevel? level = QueryRetrieveLevels.TryGetLevel(identifier, out var l) ? l : null;
        return new DicomQuery(identifier, level, ParseKeys(identifier, options, OffsetOf(identifier)), options);
    }

    /// <summary>One-off match without keeping the parsed query.</summary>
    public static bool Matches(DicomDataset identifier, DicomDataset candidate, QueryMatchOptions? options = null) =>
        Parse(identifier, options).Matches(candidate);

    // ---------------------------------------------------------------- parsing

    private static List<QueryKey> ParseKeys(DicomDataset ds, QueryMatchOptions options, TimeSpan? offset)
    {
        var keys = new List<QueryKey>();
        foreach (var e in ds)
        {
            if (e.Tag.IsGroupLength || e.Tag.Group is 0x0000 or 0x0002 || NotKeys.Contains(e.Tag)) continue;
            if (ReturnOnly.Contains(e.Tag) || options.IsKeySupported?.Invoke(e.Tag) == false)
            {
                keys.Add(new QueryKey(e.Tag, e.VR, QueryMatchKind.Universal)
                {
                    ItemKeys = e is DicomSequence { Items.Count: 1 } s ? ParseKeys(s.Items[0], options, offset) : [],
                });
                continue;
            }
            keys.Add(e switch
            {
                DicomSequence sq => ParseSequence(sq, options, offset),
                DicomValueElement v => ParseValue(ds, v, options, offset),
                _ => new QueryKey(e.Tag, e.VR, QueryMatchKind.Universal),
            });
        }
        if (options.CombinedDateTimeMatching) CombineDateTime(keys);
        return keys;
    }

    private static QueryKey ParseSequence(DicomSequence sq, QueryMatchOptions options, TimeSpan? offset)
    {
        if (sq.Items.Count == 0) return new QueryKey(sq.Tag, DicomVR.SQ, QueryMatchKind.Universal);
        if (sq.Items.Count > 1)
            throw new DicomQueryException(sq.Tag, $"Sequence key {Name(sq.Tag)} has {sq.Items.Count} items; sequence matching takes exactly one.");
        var itemKeys = ParseKeys(sq.Items[0], options, OffsetOf(sq.Items[0]) ?? offset);
        return new QueryKey(sq.Tag, DicomVR.SQ, itemKeys.All(k => k.IsUniversal) ? QueryMatchKind.Universal : QueryMatchKind.Sequence)
        {
            ItemKeys = itemKeys,
        };
    }

    private static QueryKey ParseValue(DicomDataset ds, DicomValueElement e, QueryMatchOptions options, TimeSpan? offset)
    {
        var tag = e.Tag;
        var vr = e.VR;
        var universal = new QueryKey(tag, vr, QueryMatchKind.Universal);
        if (e.IsEmpty) return universal;
        var values = ds.GetStrings(tag);
        if (values.All(v => v.Length == 0)) return universal;

        if (values.Length == 1 && values[0] == "\"\"" && SupportsEmptyValueMatching(vr))
            return new QueryKey(tag, vr, QueryMatchKind.EmptyValue);

        bool ignoreCase = vr == DicomVR.PN && options.PersonNameCaseInsensitive;
        var terms = new List<QueryTerm>(values.Length);
        bool anyRange = false;
        foreach (var raw in values)
        {
            if (raw.Length == 0) continue; // an empty value among several adds nothing to an OR
            var term = ParseTerm(tag, vr, raw, ignoreCase, offset, out bool isRange);
            if (term is null) return universal; // "*" (or an open range "-") matches everything
            anyRange |= isRange;
            terms.Add(term);
        }

        QueryMatchKind kind;
        if (terms.Count > 1)
        {
            if (vr == DicomVR.UI) kind = QueryMatchKind.ListOfUid;
            else if (options.MultipleValueMatching) kind = QueryMatchKind.MultipleValues;
            else throw new DicomQueryException(tag, $"Key {Name(tag)} has {terms.Count} values; multiple value matching is not supported.");
        }
        else
        {
            kind = terms[0] switch
            {
                WildcardTerm => QueryMatchKind.Wildcard,
                RangeTerm when anyRange => QueryMatchKind.Range,
                _ => QueryMatchKind.SingleValue,
            };
        }
        return new QueryKey(tag, vr, kind) { Terms = terms, IgnoreCase = ignoreCase };
    }

    /// <summary>One value of a key as a term; null when it matches everything.</summary>
    private static QueryTerm? ParseTerm(DicomTag tag, DicomVR vr, string value, bool ignoreCase, TimeSpan? offset, out bool isRange)
    {
        isRange = false;
        switch (vr)
        {
            case DicomVR.DA or DicomVR.TM or DicomVR.DT:
                return ParseDateTimeTerm(tag, vr, value, offset, out isRange);
            case DicomVR.UI:
                return value == "*" ? null : new ValueTerm(value);
        }
        if (SupportsWildcards(vr) && (value.Contains('*') || value.Contains('?')))
        {
            if (value.All(c => c == '*')) return null;
            var pattern = vr == DicomVR.PN ? QueryValues.NormalizePersonName(value) : value;
            return new WildcardTerm(ignoreCase ? pattern.ToUpperInvariant() : pattern);
        }
        if (vr == DicomVR.PN)
        {
            var pn = QueryValues.NormalizePersonName(value);
            if (pn.Length == 0) return null; // "^^" or "==": only delimiters, an empty name
            return new ValueTerm(ignoreCase ? pn.ToUpperInvariant() : pn);
        }
        return new ValueTerm(value);
    }

    private static RangeTerm? ParseDateTimeTerm(DicomTag tag, DicomVR vr, string value, TimeSpan? offset, out bool isRange)
    {
        isRange = false;
        var format = vr switch { DicomVR.DA => QueryRangeFormat.Date, DicomVR.TM => QueryRangeFormat.Time, _ => QueryRangeFormat.DateTime };
        // A DT may carry a "-ZZXX" offset: a value that parses as one DT is a single value, not a range.
        if (TryBounds(vr, value, offset, out var lo, out var hi)) return new RangeTerm(lo, hi, format);
        for (int dash = value.IndexOf('-'); dash >= 0; dash = value.IndexOf('-', dash + 1))
        {
            string a = value[..dash].Trim(), b = value[(dash + 1)..].Trim();
            string? lower = null, upper = null;
            if ((a.Length == 0 || TryBounds(vr, a, offset, out lower, out _)) && (b.Length == 0 || TryBounds(vr, b, offset, out _, out upper)))
            {
                isRange = true;
                if (lower is null && upper is null) return null; // "-": every value
                return new RangeTerm(lower, upper, format);
            }
        }
        throw new DicomQueryException(tag, $"'{value}' is neither a {vr} value nor a {vr} range for key {Name(tag)}.");
    }

    private static bool TryBounds(DicomVR vr, string value, TimeSpan? offset, out string lower, out string upper)
    {
        switch (vr)
        {
            case DicomVR.DA:
                var ok = QueryValues.TryDate(value, out lower);
                upper = lower;
                return ok;
            case DicomVR.TM:
                return QueryValues.TryTime(value, out lower, out upper);
            default:
                return QueryValues.TryDateTime(value, offset, out lower, out upper);
        }
    }

    /// <summary>PS3.4 C.2.2.2.5: a date key and its time key, both restricting, become one date-time range on the date key.</summary>
    private static void CombineDateTime(List<QueryKey> keys)
    {
        foreach (var (dateTag, timeTag) in QueryMatchOptions.DateTimePairs)
        {
            int di = keys.FindIndex(k => k.Tag == dateTag), ti = keys.FindIndex(k => k.Tag == timeTag);
            if (di < 0 || ti < 0) continue;
            QueryKey date = keys[di], time = keys[ti];
            if (date.VR != DicomVR.DA || time.VR != DicomVR.TM) continue;
            if (date.Terms is not [RangeTerm d] || time.Terms is not [RangeTerm t]) continue;
            var lower = d.Lower is null ? null : d.Lower + (t.Lower ?? QueryValues.MinTime);
            var upper = d.Upper is null ? null : d.Upper + (t.Upper ?? QueryValues.MaxTime);
            keys[di] = date with
            {
                Kind = QueryMatchKind.Range,
                Terms = [new RangeTerm(lower, upper, QueryRangeFormat.DateTime) { TimeTag = timeTag }],
            };
            keys[ti] = time with { Kind = QueryMatchKind.Universal, Terms = [] };
        }
    }

    /// <summary>Wild card matching applies to these VRs only (PS3.4 C.2.2.2.4).</summary>
    public static bool SupportsWildcards(DicomVR vr) => vr is DicomVR.AE or DicomVR.CS or DicomVR.LO or DicomVR.LT or DicomVR.PN
        or DicomVR.SH or DicomVR.ST or DicomVR.UC or DicomVR.UR or DicomVR.UT;

    /// <summary>Empty value matching (<c>""</c>) applies to text, date and time VRs, not to UIDs.</summary>
    public static bool SupportsEmptyValueMatching(DicomVR vr) => SupportsWildcards(vr) || vr is DicomVR.DA or DicomVR.TM or DicomVR.DT
        or DicomVR.AS or DicomVR.DS or DicomVR.IS;

    private static TimeSpan? OffsetOf(DicomDataset ds) =>
        ds.TryGet<string>(DicomTags.TimezoneOffsetFromUTC, out var s) && QueryValues.TryOffset(s, out var o) ? o : null;

    private static string Name(DicomTag tag) => DicomDictionary.Lookup(tag)?.Keyword is { } k ? $"{k} {tag}" : tag.ToString();

    // ---------------------------------------------------------------- matching

    /// <summary>True when the candidate satisfies every key.</summary>
    public bool Matches(DicomDataset candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return MatchAll(Keys, candidate);
    }

    private static bool MatchAll(IReadOnlyList<QueryKey> keys, DicomDataset candidate)
    {
        foreach (var key in keys)
            if (!Match(key, candidate)) return false;
        return true;
    }

    private static bool Match(QueryKey key, DicomDataset candidate)
    {
        switch (key.Kind)
        {
            case QueryMatchKind.Universal:
                return true;
            case QueryMatchKind.EmptyValue:
                return !candidate.TryGetElement(key.Tag, out var el) || el switch
                {
                    DicomSequence s => s.Items.Count == 0,
                    DicomValueElement v => v.IsEmpty || candidate.GetStrings(key.Tag).All(x => x.Length == 0),
                    _ => false,
                };
            case QueryMatchKind.Sequence:
                return candidate.TryGetSequence(key.Tag, out var sq) && sq.Items.Any(item => MatchAll(key.ItemKeys, item));
        }

        if (key.Terms is [RangeTerm { TimeTag: { } timeTag } combined]) return MatchCombined(key.Tag, timeTag, combined, candidate);
        if (!candidate.TryGetElement(key.Tag, out var e) || e is not DicomValueElement { IsEmpty: false }) return false;
        var values = candidate.GetStrings(key.Tag);
        TimeSpan? offset = key.VR == DicomVR.DT ? CandidateOffset(candidate) : null;
        foreach (var value in values)
        {
            if (value.Length == 0) continue;
            foreach (var term in key.Terms)
                if (MatchTerm(key, term, value, offset)) return true;
        }
        return false;
    }

    private static bool MatchTerm(QueryKey key, QueryTerm term, string value, TimeSpan? offset)
    {
        switch (term)
        {
            case RangeTerm r:
                return r.Format switch
                {
                    QueryRangeFormat.Date => QueryValues.TryDate(value, out var d) && r.Contains(d),
                    QueryRangeFormat.Time => QueryValues.TryTime(value, out var t, out _) && r.Contains(t),
                    _ => QueryValues.TryDateTime(value, offset, out var dt, out _) && r.Contains(dt),
                };
            case WildcardTerm w:
                return key.VR == DicomVR.PN
                    ? PersonNameForms(value, key.IgnoreCase, wholeOnly: false).Any(w.IsMatch)
                    : w.IsMatch(value);
            case ValueTerm v:
                if (key.VR == DicomVR.PN)
                    return PersonNameForms(value, key.IgnoreCase, wholeOnly: v.Value.Contains('=')).Any(f => f == v.Value);
                if (IsNumeric(key.VR) && TryNumber(value, out var a) && TryNumber(v.Value, out var b)) return a == b;
                if (key.VR == DicomVR.AT && DicomTag.TryParse(value, out var ta) && DicomTag.TryParse(v.Value, out var tb)) return ta == tb;
                return string.Equals(value, v.Value, StringComparison.Ordinal);
            default:
                return false;
        }
    }

    /// <summary>The whole normalized name, then (unless <paramref name="wholeOnly"/>) each of its component groups.</summary>
    private static IEnumerable<string> PersonNameForms(string value, bool ignoreCase, bool wholeOnly)
    {
        var whole = QueryValues.NormalizePersonName(value);
        if (ignoreCase) whole = whole.ToUpperInvariant();
        yield return whole;
        if (wholeOnly || !whole.Contains('=')) yield break;
        foreach (var group in whole.Split('='))
            if (group.Length > 0) yield return group;
    }

    private static bool MatchCombined(DicomTag dateTag, DicomTag timeTag, RangeTerm range, DicomDataset candidate)
    {
        if (!candidate.TryGet<string>(dateTag, out var dateText) || !QueryValues.TryDate(dateText, out var date)) return false;
        if (candidate.TryGet<string>(timeTag, out var timeText) && QueryValues.TryTime(timeText, out var time, out _))
            return range.Contains(QueryValues.Combine(date, time));
        // Time unknown: the entity happened some time that day.
        return range.Overlaps(QueryValues.Combine(date, QueryValues.MinTime), QueryValues.Combine(date, QueryValues.MaxTime));
    }

    private static TimeSpan? CandidateOffset(DicomDataset candidate)
    {
        for (DicomDataset? ds = candidate; ds != null; ds = ds.Parent?.Owner)
            if (OffsetOf(ds) is { } o) return o;
        return null;
    }

    private static bool IsNumeric(DicomVR vr) => vr is DicomVR.IS or DicomVR.DS or DicomVR.US or DicomVR.SS or DicomVR.UL
        or DicomVR.SL or DicomVR.UV or DicomVR.SV or DicomVR.FL or DicomVR.FD;

    private static bool TryNumber(string s, out double d) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d);

    // ---------------------------------------------------------------- response

    /// <summary>
    /// The response identifier for a matching candidate: every key of the request with the candidate's value (zero length when
    /// the candidate lacks it), Query/Retrieve Level as requested, and Specific Character Set when the candidate's values need it.
    /// Sequence keys with an item return the candidate's matching items reduced to the item's keys; an empty sequence key (no
    /// item, or one empty item) returns the candidate's whole sequence. Attributes not asked for are never returned.
    /// </summary>
    public DicomDataset CreateResponse(DicomDataset candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var response = new DicomDataset();
        if (candidate.TryGetElement(DicomTags.SpecificCharacterSet, out var cs)) response.Set(cs);
        else if (!candidate.CharacterSet.IsDefault) response.Set(DicomTags.SpecificCharacterSet, DicomVR.CS, [.. candidate.CharacterSet.Terms]);
        if (Identifier.TryGetElement(DicomTags.QueryRetrieveLevel, out var level)) response.Set(level);
        Fill(Identifier, Keys, candidate, response);
        return response;
    }

    private static void Fill(DicomDataset request, IReadOnlyList<QueryKey> keys, DicomDataset candidate, DicomDataset response)
    {
        foreach (var e in request)
        {
            if (e.Tag.IsGroupLength || e.Tag.Group is 0x0000 or 0x0002 || NotKeys.Contains(e.Tag)) continue;
            var key = keys.FirstOrDefault(k => k.Tag == e.Tag);
            if (e is DicomSequence requested)
            {
                if (!candidate.TryGetSequence(e.Tag, out var have))
                {
                    response.Set(new DicomSequence(e.Tag));
                }
                else if (requested.Items.Count == 0 || requested.Items[0].Count == 0)
                {
                    response.Set(new DicomSequence(e.Tag, have.Items.Select(i => i.Clone())));
                }
                else
                {
                    var itemKeys = key?.ItemKeys ?? [];
                    var items = new List<DicomDataset>();
                    foreach (var item in have.Items)
                    {
                        if (key?.Kind == QueryMatchKind.Sequence && !MatchAll(itemKeys, item)) continue;
                        var r = new DicomDataset();
                        Fill(requested.Items[0], itemKeys, item, r);
                        items.Add(r);
                    }
                    response.Set(new DicomSequence(e.Tag, items));
                }
            }
            else if (candidate.TryGetElement(e.Tag, out var value) && value is not DicomSequence)
            {
                response.Set(value);
            }
            else
            {
                response.SetEmpty(e.Tag, e.VR);
            }
        }
    }

    public override string ToString() =>
        $"{Level?.ToCode() ?? "(no level)"}: {string.Join("; ", MatchingKeys)}";
}

/// <summary>A query identifier that cannot be evaluated: a malformed key value (C-FIND status A900 with the offending tag).</summary>
public sealed class DicomQueryException(DicomTag? tag, string message) : DicomException(message)
{
    /// <summary>The offending key, for Offending Element (0000,0901).</summary>
    public DicomTag? Tag { get; } = tag;
}
