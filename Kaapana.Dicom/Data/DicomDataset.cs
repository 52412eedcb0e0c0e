using System.Collections;

namespace Kaapana.Dicom;

/// <summary>
/// A data set: elements kept in ascending tag order, reachable by tag or keyword, with typed getters
/// (<c>Get</c> / <c>TryGet</c> / <c>GetOrDefault</c>) and setters. Nested items know their parent so they
/// inherit its Specific Character Set.
/// </summary>
public sealed class DicomDataset : IEnumerable<DicomElement>
{
    private readonly List<DicomElement> _elements = [];
    private DicomCharacterSet? _charset;

    public DicomDataset() { }

    public DicomDataset(IEnumerable<DicomElement> elements)
    {
        foreach (var e in elements) Set(e);
    }

    /// <summary>The sequence this data set is an item of, if any.</summary>
    public DicomSequence? Parent { get; internal set; }

    public int Count => _elements.Count;

    /// <summary>Specific Character Set of this data set, inherited from the enclosing data set when absent (PS3.5 7.5.3).</summary>
    public DicomCharacterSet CharacterSet
    {
        get
        {
            if (_charset != null) return _charset;
            if (TryGetElement(DicomTags.SpecificCharacterSet, out var e) && e is DicomValueElement v && v.Length > 0)
            {
                var terms = System.Text.Encoding.ASCII.GetString(v.Span).Split('\\').Select(t => t.Trim(' ', '\0')).ToArray();
                return _charset = DicomCharacterSet.FromTerms(terms);
            }
            return Parent?.Owner?.CharacterSet ?? DicomCharacterSet.Default;
        }
    }

    // ---- element access ----

    private int IndexOf(DicomTag tag)
    {
        // Appending in order is the common case (reading): check the end first.
        int n = _elements.Count;
        if (n > 0 && _elements[n - 1].Tag == tag) return n - 1;
        int lo = 0, hi = n - 1;
        var key = tag.Value;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var v = _elements[mid].Tag.Value;
            if (v == key) return mid;
            if (v < key) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }

    public bool Contains(DicomTag tag) => IndexOf(tag) >= 0;
    public bool Contains(string keyword) => Contains(ResolveKeyword(keyword));

    public DicomElement this[DicomTag tag] => TryGetElement(tag, out var e) ? e : throw new DicomTagNotFoundException(tag);
    public DicomElement this[string keyword] => this[ResolveKeyword(keyword)];

    public bool TryGetElement(DicomTag tag, out DicomElement element)
    {
        var i = IndexOf(tag);
        element = i >= 0 ? _elements[i] : null!;
        return i >= 0;
    }

    public DicomElement? GetElementOrDefault(DicomTag tag) => TryGetElement(tag, out var e) ? e : null;

    /// <summary>Adds the element, replacing one with the same tag.</summary>
    public DicomDataset Set(DicomElement element)
    {
        int n = _elements.Count;
        if (n == 0 || _elements[n - 1].Tag < element.Tag) _elements.Add(element);
        else
        {
            var i = IndexOf(element.Tag);
            if (i >= 0) _elements[i] = element; else _elements.Insert(~i, element);
        }
        if (element is DicomSequence sq) sq.Owner = this;
        if (element.Tag == DicomTags.SpecificCharacterSet) _charset = null;
        return this;
    }

    public bool Remove(DicomTag tag)
    {
        var i = IndexOf(tag);
        if (i < 0) return false;
        if (_elements[i] is DicomSequence sq) sq.Owner = null;
        _elements.RemoveAt(i);
        if (tag == DicomTags.SpecificCharacterSet) _charset = null;
        return true;
    }

    public void Clear()
    {
        _elements.Clear();
        _charset = null;
    }

    /// <summary>Removes every element with <paramref name="from"/> ≤ tag ≤ <paramref name="to"/>.</summary>
    public void RemoveRange(DicomTag from, DicomTag to)
    {
        _elements.RemoveAll(e => e.Tag >= from && e.Tag <= to);
        _charset = null;
    }

    public IEnumerator<DicomElement> GetEnumerator() => _elements.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static DicomTag ResolveKeyword(string keyword) =>
        DicomTag.TryParse(keyword, out var t) ? t : throw new ArgumentException($"'{keyword}' is not a DICOM keyword or tag.", nameof(keyword));

    // ---- typed getters ----

    /// <summary>Value <paramref name="index"/> converted to <typeparamref name="T"/> (string, numbers, DateOnly, TimeOnly, DateTime, DateTimeOffset, DicomPersonName, DicomTag, byte[]).</summary>
    public T Get<T>(DicomTag tag, int index = 0)
    {
        var e = this[tag];
        if (DicomValueConversion.TryGet<T>(e, CharacterSet, index, out var value, out var error)) return value;
        throw new DicomValueException(tag, error ?? "conversion failed");
    }

    public T Get<T>(string keyword, int index = 0) => Get<T>(ResolveKeyword(keyword), index);

    public bool TryGet<T>(DicomTag tag, out T value) => TryGet(tag, 0, out value);

    public bool TryGet<T>(DicomTag tag, int index, out T value)
    {
        if (TryGetElement(tag, out var e) && DicomValueConversion.TryGet(e, CharacterSet, index, out value, out _)) return true;
        value = default!;
        return false;
    }

    public T GetOrDefault<T>(DicomTag tag, T defaultValue, int index = 0) => TryGet<T>(tag, index, out var v) ? v : defaultValue;

    public T? GetOrDefault<T>(DicomTag tag) => TryGet<T>(tag, 0, out var v) ? v : default;

    /// <summary>All values converted to <typeparamref name="T"/>; empty when the element is absent or empty.</summary>
    public T[] GetValues<T>(DicomTag tag)
    {
        if (!TryGetElement(tag, out var e) || e is not DicomValueElement v) return [];
        int n = GetValueCount(tag);
        var result = new T[n];
        // Decoded and split once: per value it would be quadratic in the number of values.
        var strings = v.VR.IsString() || typeof(T) == typeof(string) ? DicomValueConversion.GetStrings(v, CharacterSet) : null;
        for (int i = 0; i < n; i++)
        {
            if (!DicomValueConversion.TryGet<T>(v, CharacterSet, i, out result[i], out var error, strings))
                throw new DicomValueException(tag, error ?? "conversion failed");
        }
        return result;
    }

    /// <summary>The whole value as text: values joined by backslash, padding removed. Empty if absent.</summary>
    public string GetString(DicomTag tag) =>
        TryGetElement(tag, out var e) && e is DicomValueElement v ? string.Join('\\', DicomValueConversion.GetStrings(v, CharacterSet)) : "";

    public string GetString(string keyword) => GetString(ResolveKeyword(keyword));

    public string[] GetStrings(DicomTag tag) =>
        TryGetElement(tag, out var e) && e is DicomValueElement v ? DicomValueConversion.GetStrings(v, CharacterSet) : [];

    /// <summary>Value multiplicity as encoded (0 for an empty or absent element; item count for a sequence).</summary>
    public int GetValueCount(DicomTag tag)
    {
        if (!TryGetElement(tag, out var e)) return 0;
        return e switch
        {
            DicomSequence sq => sq.Items.Count,
            DicomFragmentSequence f => f.Fragments.Count,
            DicomValueElement v when v.Length == 0 => 0,
            DicomValueElement v when v.VR.IsString() => v.VR.IsSingleValuedText() ? 1 : DicomValueConversion.GetStrings(v, CharacterSet).Length,
            DicomValueElement v => DicomValueConversion.BinaryCount(v) is var c and >= 0 ? c : 1,
            _ => 0,
        };
    }

    public DicomSequence GetSequence(DicomTag tag) =>
        this[tag] as DicomSequence ?? throw new DicomValueException(tag, "element is not a sequence");

    public bool TryGetSequence(DicomTag tag, out DicomSequence sequence)
    {
        sequence = (TryGetElement(tag, out var e) ? e as DicomSequence : null)!;
        return sequence != null;
    }

    // ---- setters ----

    private static DicomVR DictionaryVR(DicomTag tag)
    {
        var vr = DicomDictionary.GetDefaultVR(tag);
        if (vr == DicomVR.UN && tag.IsPrivateCreator) return DicomVR.LO;
        return vr;
    }

    /// <summary>Sets a text value; the VR comes from the dictionary.</summary>
    public DicomDataset Set(DicomTag tag, params string[] values) => Set(tag, DictionaryVR(tag), values);

    public DicomDataset Set(DicomTag tag, DicomVR vr, params string[] values) =>
        vr.IsString()
            ? Set(new DicomValueElement(tag, vr, DicomValueConversion.EncodeStrings(vr, values, CharacterSetFor(tag, vr, values))))
            : SetParsed(tag, vr, values);

    /// <summary>
    /// The character set to encode new text with. Text the current set cannot represent is never silently replaced:
    /// a data set still in the default repertoire (ASCII, a subset of UTF-8) is switched to ISO_IR 192; otherwise it is an error.
    /// </summary>
    private DicomCharacterSet CharacterSetFor(DicomTag tag, DicomVR vr, string[] values)
    {
        var cs = CharacterSet;
        if (!vr.UsesSpecificCharacterSet() || values.All(v => System.Text.Ascii.IsValid(v))) return cs;
        var joined = string.Join('\\', values);
        if (cs.Decode(cs.Encode(joined, vr), vr) == joined) return cs;
        if (cs.IsDefault && tag != DicomTags.SpecificCharacterSet)
        {
            var root = this;
            while (root.Parent?.Owner is { } up && !root.Contains(DicomTags.SpecificCharacterSet)) root = up;
            root.Set(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
            return CharacterSet;
        }
        throw new DicomValueException(tag, $"'{joined}' cannot be represented in character set {cs}; set Specific Character Set to ISO_IR 192 first.");
    }

    private DicomDataset SetParsed(DicomTag tag, DicomVR vr, string[] values)
    {
        // Numbers given as text for a binary VR (e.g. from a query string).
        if (vr == DicomVR.AT) return Set(tag, vr, values.Select(DicomTag.Parse).ToArray());
        var numbers = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
            if (!double.TryParse(values[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out numbers[i]))
                throw new DicomValueException(tag, $"'{values[i]}' is not a number for {vr}");
        return Set<double>(tag, vr, numbers);
    }

    /// <summary>Sets typed values; the VR comes from the dictionary.</summary>
    public DicomDataset Set<T>(DicomTag tag, params T[] values) => Set(tag, DictionaryVR(tag), values);

    public DicomDataset Set<T>(DicomTag tag, DicomVR vr, params T[] values)
    {
        if (vr == DicomVR.SQ) throw new DicomValueException(tag, "use SetSequence for SQ elements");
        if (typeof(T) == typeof(string)) return Set(tag, vr, (string[])(object)values);
        return Set(new DicomValueElement(tag, vr, DicomValueConversion.EncodeValues(tag, vr, values, CharacterSet)));
    }

    public DicomDataset SetBytes(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> bytes) =>
        Set(new DicomValueElement(tag, vr, DicomBuffer.From(bytes)));

    public DicomDataset SetEmpty(DicomTag tag, DicomVR? vr = null) =>
        (vr ?? DictionaryVR(tag)) == DicomVR.SQ ? Set(new DicomSequence(tag)) : Set(new DicomValueElement(tag, vr ?? DictionaryVR(tag), DicomBuffer.Empty));

    public DicomDataset SetSequence(DicomTag tag, params DicomDataset[] items) => Set(new DicomSequence(tag, items));

    // ---- private data elements (PS3.5 7.8) ----

    /// <summary>
    /// The tag of private element <paramref name="elementOffset"/> (0x00-0xFF) in the block that <paramref name="creator"/> reserved
    /// in <paramref name="group"/>. When the creator has no block and <paramref name="reserve"/> is true, the next free block is reserved.
    /// </summary>
    public DicomTag? GetPrivateTag(ushort group, string creator, byte elementOffset, bool reserve = true)
    {
        if ((group & 1) == 0 || group <= 0x0007) throw new ArgumentException($"Group {group:X4} is not a private group.", nameof(group));
        int free = -1;
        for (int block = 0x10; block <= 0xFF; block++)
        {
            var ct = new DicomTag(group, (ushort)block);
            if (TryGetElement(ct, out var e))
            {
                if (e is DicomValueElement v && DicomValueConversion.GetStrings(v, CharacterSet).FirstOrDefault() == creator)
                    return new DicomTag(group, (ushort)((block << 8) | elementOffset));
            }
            else if (free < 0) free = block;
        }
        if (!reserve || free < 0) return null;
        Set(new DicomTag(group, (ushort)free), DicomVR.LO, creator);
        return new DicomTag(group, (ushort)((free << 8) | elementOffset));
    }

    /// <summary>The private creator string that owns a private data element, if its creator element is present.</summary>
    public string? GetPrivateCreator(DicomTag tag) =>
        tag.PrivateCreatorTag is { } ct && TryGetElement(ct, out var e) && e is DicomValueElement v
            ? DicomValueConversion.GetStrings(v, CharacterSet).FirstOrDefault()
            : null;

    /// <summary>Deep copy of the structure; value buffers are immutable and shared.</summary>
    public DicomDataset Clone()
    {
        var copy = new DicomDataset();
        foreach (var e in _elements)
        {
            copy._elements.Add(e switch
            {
                DicomSequence sq => CloneSequence(sq),
                DicomFragmentSequence f => new DicomFragmentSequence(f.Tag, f.VR, f.OffsetTable, f.Fragments),
                _ => e,
            });
            if (copy._elements[^1] is DicomSequence s) s.Owner = copy;
        }
        return copy;
    }

    private static DicomSequence CloneSequence(DicomSequence sq) => new(sq.Tag, sq.Items.Select(i => i.Clone()));

    public override string ToString() => $"DicomDataset [{Count} elements]";
}
