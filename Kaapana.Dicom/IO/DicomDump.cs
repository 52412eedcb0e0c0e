using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Kaapana.Dicom;

/// <summary>What a <see cref="DicomDumpLine"/> describes.</summary>
public enum DicomDumpKind
{
    /// <summary>A data element with a byte value (any VR but SQ).</summary>
    Element,
    /// <summary>A sequence (SQ) element; its items follow one level deeper.</summary>
    Sequence,
    /// <summary>An item of a sequence; its elements follow one level deeper.</summary>
    Item,
    /// <summary>Encapsulated pixel data; its offset table and fragments follow one level deeper.</summary>
    EncapsulatedPixelData,
    /// <summary>The basic offset table (first item) or a fragment of encapsulated pixel data.</summary>
    Fragment,
}

/// <summary>
/// One line of a data set listing, in the spirit of DCMTK's <c>dcmdump</c>.
/// </summary>
/// <param name="Depth">Nesting level: 0 for top-level elements, 1 for items of a top-level sequence, 2 for their elements, ...</param>
/// <param name="Kind">Element, sequence, item, encapsulated pixel data or fragment.</param>
/// <param name="Tag">The element tag; (FFFE,E000) for items and fragments.</param>
/// <param name="VR">The element's VR; <see cref="DicomVR.None"/> for items and fragments.</param>
/// <param name="VM">
/// Value multiplicity: number of values of a byte-valued element (0 when empty); 1 for a sequence or encapsulated pixel data
/// (PS3.5 7.5: a sequence is a single value); 1 for items and fragments.
/// </param>
/// <param name="Value">
/// The value as text: for string VRs the decoded value exactly as stored (padding included, values separated by backslash);
/// for numeric VRs the numbers (invariant culture, floats in round-trip form); for AT the tags. For bulk VRs (OB, OW, OF, OD,
/// OL, OV, UN) and fragments a hex preview; null for those and numeric values left in the file, and for sequences and items.
/// </param>
/// <param name="Length">Value length in bytes as held (for read data: as encoded); null for sequences, items and encapsulated pixel data, whose encoded length depends on the writer's options.</param>
/// <param name="Count">Number of nested entries: items of a sequence, elements of an item, fragments (with the offset table) of encapsulated pixel data; 0 otherwise.</param>
public sealed record DicomDumpLine(int Depth, DicomDumpKind Kind, DicomTag Tag, DicomVR VR, int VM, string? Value, long? Length, int Count)
{
    /// <summary>True for the file meta information group (0002) of a <see cref="DicomFile"/>.</summary>
    public bool IsMeta { get; init; }

    /// <summary>Dictionary keyword, "PrivateCreator"/"GroupLength" for those, "Item"/"Fragment" for structural lines; empty when unknown.</summary>
    public string Keyword => Kind switch
    {
        DicomDumpKind.Item => "Item",
        DicomDumpKind.Fragment => "Fragment",
        _ => DicomDictionary.Lookup(Tag)?.Keyword ?? "",
    };
}

/// <summary>Options for <see cref="DicomDump"/>.</summary>
public sealed record DicomDumpOptions
{
    public static DicomDumpOptions Default { get; } = new();

    /// <summary>Bytes of a bulk value (OB, OW, UN, ...) shown as hex; the rest is elided with "...".</summary>
    public int BulkPreviewBytes { get; init; } = 16;

    /// <summary>Maximum characters of a value in the text form; longer values are cut and end with "...". Null prints values fully.</summary>
    public int? MaxValueChars { get; init; } = 64;
}

/// <summary>
/// Lists a data set element by element (like DCMTK's <c>dcmdump</c>): as structured <see cref="DicomDumpLine"/> records
/// for programs, or as text for people. Bulk and numeric values that were left in the file (see
/// <see cref="DicomReadOptions.LargeValueThreshold"/>) are not loaded; text values are, since showing them is the point.
/// </summary>
public static class DicomDump
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>The file meta information (flagged <see cref="DicomDumpLine.IsMeta"/>) followed by the data set.</summary>
    public static IEnumerable<DicomDumpLine> Lines(DicomFile file, DicomDumpOptions? options = null)
    {
        options ??= DicomDumpOptions.Default;
        foreach (var line in Lines(file.FileMetaInfo, options)) yield return line with { IsMeta = true };
        foreach (var line in Lines(file.Dataset, options)) yield return line;
    }

    /// <summary>The elements of a data set, depth first, nested items and fragments included.</summary>
    public static IEnumerable<DicomDumpLine> Lines(DicomDataset dataset, DicomDumpOptions? options = null) =>
        LinesAt(dataset, 0, options ?? DicomDumpOptions.Default);

    private static IEnumerable<DicomDumpLine> LinesAt(DicomDataset ds, int depth, DicomDumpOptions options)
    {
        foreach (var e in ds)
        {
            switch (e)
            {
                case DicomValueElement v:
                    yield return new DicomDumpLine(depth, DicomDumpKind.Element, v.Tag, v.VR, v.Count(ds.CharacterSet),
                        ValueText(v, ds.CharacterSet, options), v.Length, 0);
                    break;
                case DicomSequence sq:
                    yield return new DicomDumpLine(depth, DicomDumpKind.Sequence, sq.Tag, DicomVR.SQ, 1, null, null, sq.Items.Count);
                    foreach (var item in sq.Items)
                    {
                        yield return new DicomDumpLine(depth + 1, DicomDumpKind.Item, DicomTag.Item, DicomVR.None, 1, null, null, item.Count);
                        foreach (var line in LinesAt(item, depth + 2, options)) yield return line;
                    }
                    break;
                case DicomFragmentSequence f:
                    yield return new DicomDumpLine(depth, DicomDumpKind.EncapsulatedPixelData, f.Tag, f.VR, 1, null, null, f.Fragments.Count + 1);
                    foreach (var b in f.Fragments.Prepend(f.OffsetTable))
                        yield return new DicomDumpLine(depth + 1, DicomDumpKind.Fragment, DicomTag.Item, DicomVR.None, 1,
                            HexPreview(b, DicomVR.OB, options), b.Length, 0);
                    break;
            }
        }
    }

    /// <summary>The value as text (see <see cref="DicomDumpLine.Value"/>).</summary>
    private static string? ValueText(DicomValueElement v, DicomCharacterSet charset, DicomDumpOptions options)
    {
        var vr = v.VR;
        if (vr.IsBulk() || vr == DicomVR.None) return HexPreview(v.Buffer, vr, options);
        if (v.Length == 0) return "";
        if (vr.IsString()) return vr.UsesSpecificCharacterSet() ? charset.Decode(v.Span, vr) : Latin1.GetString(v.Span);
        if (!v.Buffer.IsInMemory) return null;
        return NumbersText(vr, v.Span);
    }

    private static string NumbersText(DicomVR vr, ReadOnlySpan<byte> s)
    {
        var sb = new StringBuilder();
        int size = vr == DicomVR.AT ? 4 : vr.ValueSize();
        for (int i = 0; size > 0 && i + size <= s.Length; i += size)
        {
            if (i > 0) sb.Append('\\');
            var x = s.Slice(i, size);
            var inv = CultureInfo.InvariantCulture;
            switch (vr)
            {
                case DicomVR.US: sb.Append(BinaryPrimitives.ReadUInt16LittleEndian(x).ToString(inv)); break;
                case DicomVR.SS: sb.Append(BinaryPrimitives.ReadInt16LittleEndian(x).ToString(inv)); break;
                case DicomVR.UL: sb.Append(BinaryPrimitives.ReadUInt32LittleEndian(x).ToString(inv)); break;
                case DicomVR.SL: sb.Append(BinaryPrimitives.ReadInt32LittleEndian(x).ToString(inv)); break;
                case DicomVR.UV: sb.Append(BinaryPrimitives.ReadUInt64LittleEndian(x).ToString(inv)); break;
                case DicomVR.SV: sb.Append(BinaryPrimitives.ReadInt64LittleEndian(x).ToString(inv)); break;
                case DicomVR.FL: sb.Append(BinaryPrimitives.ReadSingleLittleEndian(x).ToString("R", inv)); break;
                case DicomVR.FD: sb.Append(BinaryPrimitives.ReadDoubleLittleEndian(x).ToString("R", inv)); break;
                case DicomVR.AT: sb.Append(new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(x), BinaryPrimitives.ReadUInt16LittleEndian(x[2..]))); break;
            }
        }
        // Trailing bytes that do not make a whole value (malformed length) are shown rather than silently dropped.
        if (size > 0 && s.Length % size != 0)
            sb.Append(sb.Length > 0 ? "\\" : "").Append("?").Append(Convert.ToHexString(s[(s.Length - s.Length % size)..]));
        return sb.ToString();
    }

    /// <summary>Bytes (OB/UN) or little-endian words (OW) as hex separated by backslash, as dcmdump shows them.</summary>
    private static string? HexPreview(DicomBuffer buffer, DicomVR vr, DicomDumpOptions options)
    {
        if (buffer.Length == 0) return "";
        if (!buffer.IsInMemory) return null;
        var s = buffer.Memory.Span;
        int unit = vr == DicomVR.OW ? 2 : 1;
        int shown = (int)Math.Min(s.Length, Math.Max(0, options.BulkPreviewBytes)) / unit * unit;
        var sb = new StringBuilder(shown * 3 + 4);
        for (int i = 0; i < shown; i += unit)
        {
            if (i > 0) sb.Append('\\');
            if (unit == 2) sb.Append(BinaryPrimitives.ReadUInt16LittleEndian(s[i..]).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(s[i].ToString("x2", CultureInfo.InvariantCulture));
        }
        if (shown < s.Length) sb.Append("...");
        return sb.ToString();
    }

    // ---- text form ----

    /// <summary>The whole listing as text: a header per part, then one line per element.</summary>
    public static string ToText(DicomFile file, DicomDumpOptions? options = null)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        Write(w, file, options);
        return w.ToString();
    }

    public static string ToText(DicomDataset dataset, DicomDumpOptions? options = null)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        foreach (var line in Lines(dataset, options)) w.WriteLine(Format(line, options));
        return w.ToString();
    }

    public static void Write(TextWriter writer, DicomFile file, DicomDumpOptions? options = null)
    {
        bool? inMeta = null;
        foreach (var line in Lines(file, options))
        {
            if (inMeta != line.IsMeta)
            {
                if (inMeta != null) writer.WriteLine();
                writer.WriteLine(line.IsMeta ? "# File meta information" : $"# Data set ({file.TransferSyntax.Name}{(file.IsPartial ? ", read partially" : "")})");
                inMeta = line.IsMeta;
            }
            writer.WriteLine(Format(line, options));
        }
        if (inMeta != false) writer.WriteLine($"# Data set ({file.TransferSyntax.Name}): empty");
    }

    /// <summary>
    /// One line, e.g. <c>  (0010,0010) PN [Doe^John]                               #   8, 1 PatientName</c>.
    /// Control characters are shown escaped (\xNN) so that a line stays a line; the NUL that pads a UI value is left out
    /// (the length still counts it).
    /// </summary>
    public static string Format(DicomDumpLine line, DicomDumpOptions? options = null)
    {
        options ??= DicomDumpOptions.Default;
        var indent = new string(' ', 2 * line.Depth);
        string vr = line.VR == DicomVR.None ? "--" : line.VR.ToString();
        string body = line.Kind switch
        {
            DicomDumpKind.Sequence => $"SQ ({line.Count} item{(line.Count == 1 ? "" : "s")})",
            DicomDumpKind.Item => $"-- (item with {line.Count} element{(line.Count == 1 ? "" : "s")})",
            DicomDumpKind.EncapsulatedPixelData => $"{vr} (encapsulated, {line.Count - 1} fragment{(line.Count == 2 ? "" : "s")})",
            DicomDumpKind.Fragment => $"-- {ShowValue(line.Value, bracket: false, options)}",
            _ => $"{vr} {ShowValue(line.VR == DicomVR.UI ? line.Value?.TrimEnd('\0') : line.Value, bracket: line.VR.IsString(), options)}",
        };
        // Sequences and items have no length of their own here: it depends on how they are written.
        string length = line.Length is { } l ? l.ToString(CultureInfo.InvariantCulture) : "-";
        var left = $"{indent}{line.Tag} {body}";
        return $"{left.PadRight(indent.Length + 52)} # {length,4}, {line.VM} {line.Keyword}";
    }

    private static string ShowValue(string? value, bool bracket, DicomDumpOptions options)
    {
        if (value is null) return "(not loaded)";
        if (value.Length == 0) return "(no value)";
        var sb = new StringBuilder(value.Length + 2);
        int max = options.MaxValueChars ?? int.MaxValue;
        foreach (var c in value)
        {
            if (sb.Length >= max) { sb.Append("..."); break; }
            if (c < ' ' || c == '\x7F') sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return bracket ? $"[{sb}]" : sb.ToString();
    }
}
