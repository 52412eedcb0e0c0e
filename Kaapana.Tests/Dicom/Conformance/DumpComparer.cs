using System.Globalization;
using System.Text;
using Kaapana.Dicom;

namespace Kaapana.Tests.Dicom.Conformance;

/// <summary>
/// Compares our <see cref="DicomDump"/> listing of a file with DCMTK's <c>dcmdump</c> listing of the same file, line by line:
/// nesting depth, tag, VR, VM, value length, item counts, and the values of string and numeric elements.
/// <para>
/// DCMTK differs from our data model in a few systematic ways. Each is handled by one explicit rule below, applied only where
/// it is relevant; nothing else is relaxed:
/// </para>
/// <list type="number">
/// <item><b>Delimiters.</b> dcmdump prints item and sequence delimitation items (FFFE,E00D)/(FFFE,E0DD), both real ones and
/// "for re-encoding" pseudo lines after defined-length items. They are encoding artefacts that our model does not keep, so
/// they are removed from DCMTK's side before aligning.</item>
/// <item><b>Pseudo VRs.</b> DCMTK labels items "na", fragments of encapsulated pixel data "pi", DICOMDIR offsets
/// (0004,1200/1202/1400/1420/1504) "up" (a UL it treats as a pointer) and elements it cannot give a VR in implicit data
/// "??". These map to our Item / Fragment kinds, UL, and UN respectively. If DCMTK ever leaves an ambiguous VR unresolved
/// ("xs" US/SS, "ox" OB/OW, "lt" US/SS/OW), any of the listed VRs is accepted.</item>
/// <item><b>Private tags without an explicit VR.</b> In implicit VR data (and inside undefined-length UN, which is implicit)
/// DCMTK looks private tags up in its private dictionary (private.dic) and shows e.g. "SL"; we have no private dictionary and
/// keep such values as UN. For a private, non-creator tag that we read as UN while DCMTK shows another VR, only tag, depth and
/// value length are compared.</item>
/// <item><b>Numbers.</b> DCMTK prints FL with 8 and FD with 17 significant digits in C formatting; we print the shortest
/// round-trip form. FL/FD values are compared numerically (relative tolerance 1e-6 / 1e-14), integers exactly.</item>
/// <item><b>Text quoting.</b> dcmdump runs with +Qo, which prints control characters and non-ASCII bytes as \ooo octal;
/// our value text is encoded (Latin-1 bytes, or UTF-8 when comparing against a +U8 conversion) and quoted the same way before
/// an exact comparison, padding included.</item>
/// <item><b>Sequence value multiplicity.</b> Both sides report VM 1 for a sequence; the item count is compared with
/// DCMTK's "#=n".</item>
/// <item><b>Empty bulk values.</b> DCMTK reports VM 1 for an empty OB/OW/OF/OD/OL/OV/UN element (it counts the byte
/// stream as one value); we report 0 for every empty element. Only that combination is accepted.</item>
/// <item><b>Character set conversion.</b> When DCMTK's side is a file converted to UTF-8 (dcmconv +U8), values of the
/// Specific Character Set VRs have new lengths and DCMTK re-pads them, and (0008,0005) itself now says ISO_IR 192. For those
/// VRs the length is not compared and the text is compared without trailing spaces; (0008,0005) and group length elements
/// (which the converter recalculates) are compared by tag and VR only.</item>
/// </list>
/// Bulk values (OB, OW, OF, OD, OL, OV, UN and fragments) are compared by length only.
/// </summary>
public static class DumpComparer
{
    /// <summary>How string values were rendered on DCMTK's side.</summary>
    public enum TextMode
    {
        /// <summary>Raw bytes; our text is turned back into bytes with Latin-1 (the bytes of the file for ASCII/Latin-1 data).</summary>
        Latin1,
        /// <summary>Values of Specific Character Set VRs converted to UTF-8 (dcmdump +U8 or dcmconv +U8); other VRs raw.</summary>
        Utf8,
        /// <summary>Values of Specific Character Set VRs are not compared (tag, VR, VM and length still are).</summary>
        SkipCharsetText,
    }

    private const uint ItemDelimiter = 0xFFFEE00D, SequenceDelimiter = 0xFFFEE0DD;

    /// <summary>Differences, each a readable sentence; empty when the listings agree.</summary>
    public static List<string> Compare(IReadOnlyList<DicomDumpLine> ours, IReadOnlyList<DcmdumpEntry> dcmtk, TextMode mode, int maxDifferences = 20)
    {
        var theirs = dcmtk.Where(e => e.Tag is not (ItemDelimiter or SequenceDelimiter)).ToList(); // rule 1
        var diffs = new List<string>();
        int n = Math.Min(ours.Count, theirs.Count);
        for (int i = 0; i < n && diffs.Count < maxDifferences; i++)
        {
            var d = CompareLine(ours[i], theirs[i], mode);
            if (d != null)
            {
                diffs.Add($"#{i}: {d}\n    ours:  {Show(ours[i])}\n    dcmtk: {theirs[i]}");
                // After a structural difference the rest is misaligned: one report is enough.
                if (ours[i].Tag.Value != theirs[i].Tag || ours[i].Depth != theirs[i].Depth) return diffs;
            }
        }
        if (ours.Count != theirs.Count && diffs.Count < maxDifferences)
            diffs.Add($"line count differs: ours {ours.Count}, dcmtk {theirs.Count}; first extra: " +
                (ours.Count > theirs.Count ? Show(ours[n]) : theirs[n].ToString()));
        return diffs;
    }

    public static string Show(DicomDumpLine l) => (l.IsMeta ? "meta " : "") + DicomDump.Format(l, new DicomDumpOptions { MaxValueChars = 200 });

    private static string? CompareLine(DicomDumpLine o, DcmdumpEntry t, TextMode mode)
    {
        if (o.IsMeta != t.IsMeta) return "meta/data set section differs";
        if (o.Depth != t.Depth) return "depth differs";
        if (o.Tag.Value != t.Tag) return "tag differs";
        switch (o.Kind)
        {
            case DicomDumpKind.Item:
                if (t.Vr != "na") return "DCMTK does not show an item here"; // rule 2
                return o.Count == t.Count ? null : "element count of item differs";
            case DicomDumpKind.Fragment:
                if (t.Vr != "pi") return "DCMTK does not show a fragment here"; // rule 2
                return o.Length == t.Length ? null : "fragment length differs";
            case DicomDumpKind.Sequence:
                if (t.Vr != "SQ") return "DCMTK does not show a sequence here";
                if (t.VM != 1) return "sequence VM differs"; // rule 6
                return o.Count == t.Count ? null : "item count differs";
            case DicomDumpKind.EncapsulatedPixelData:
                if (t.Vr != o.VR.ToString()) return "VR differs";
                if (!t.Value.StartsWith("(PixelSequence", StringComparison.Ordinal)) return "DCMTK does not show encapsulated pixel data";
                return o.Count == t.Count ? null : "fragment count differs";
        }

        // Rule 3: a private tag we keep as UN, DCMTK typed from private.dic.
        if (o.VR == DicomVR.UN && o.Tag.IsPrivate && !o.Tag.IsPrivateCreator && t.Vr is not ("UN" or "??"))
            return o.Length == t.Length ? null : "value length differs";

        if (!VrMatches(o.VR, t.Vr)) return "VR differs";
        bool converted = mode == TextMode.Utf8 && (o.VR.UsesSpecificCharacterSet() || o.Tag == DicomTags.SpecificCharacterSet); // rule 8
        if (converted && o.Tag == DicomTags.SpecificCharacterSet) return null;
        if (mode == TextMode.Utf8 && o.Tag.IsGroupLength) return null; // rule 8: the converter recalculates them
        if (o.Length != t.Length && !converted) return "value length differs";
        if (o.VM != t.VM && !(o.VR.IsBulk() && o.Length == 0 && t.VM == 1)) return "VM differs"; // rule 7
        if (o.VR.IsBulk()) return null;

        if (o.Length == 0) return t.Value == "(no value available)" ? null : "DCMTK shows a value for an empty element";
        if (o.Value is null) return "our value was not loaded";

        if (o.VR.IsString())
        {
            if (o.VR.UsesSpecificCharacterSet() && mode == TextMode.SkipCharsetText) return null;
            if (t.Value.Length < 2 || t.Value[0] != '[' || t.Value[^1] != ']') return "DCMTK shows no text value";
            if (converted)
                return QuoteOctal(Encoding.UTF8.GetBytes(o.Value.TrimEnd(' '))) == t.Value[1..^1].TrimEnd(' ') ? null : "text value differs";
            return QuoteOctal(Encoding.Latin1.GetBytes(o.Value)) == t.Value[1..^1] ? null : "text value differs";
        }
        return NumbersMatch(o.VR, o.Value, t.Value) ? null : "numeric value differs";
    }

    private static bool VrMatches(DicomVR ours, string theirs) => theirs switch
    {
        "up" => ours == DicomVR.UL,
        "??" => ours == DicomVR.UN,
        "xs" => ours is DicomVR.US or DicomVR.SS,
        "ox" => ours is DicomVR.OB or DicomVR.OW,
        "lt" => ours is DicomVR.US or DicomVR.SS or DicomVR.OW,
        _ => ours.ToString() == theirs,
    };

    /// <summary>FL text is parsed as a float, so that "1E-45" (shortest float form) and DCMTK's "1.40129846e-45" meet.</summary>
    private static bool TryParseReal(DicomVR vr, string s, out double value)
    {
        if (vr == DicomVR.FL)
        {
            var ok = float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var f);
            value = f;
            return ok;
        }
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>DCMTK's +Qo: bytes below 0x20 and above 0x7E as a backslash and three octal digits.</summary>
    public static string QuoteOctal(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b < 0x20 || b > 0x7E) sb.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
            else sb.Append((char)b);
        }
        return sb.ToString();
    }

    private static bool NumbersMatch(DicomVR vr, string ours, string theirs)
    {
        var a = ours.Split('\\');
        var b = theirs.Split('\\');
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
        {
            if (vr == DicomVR.AT)
            {
                if (!string.Equals(a[i], b[i], StringComparison.OrdinalIgnoreCase)) return false;
                continue;
            }
            if (vr is DicomVR.FL or DicomVR.FD)
            {
                if (!TryParseReal(vr, a[i], out var x) || !TryParseReal(vr, b[i], out var y)) return false;
                if (double.IsNaN(x) && double.IsNaN(y)) continue;
                double tol = vr == DicomVR.FL ? 1e-6 : 1e-14; // rule 4
                if (x != y && Math.Abs(x - y) > tol * Math.Max(Math.Abs(x), Math.Abs(y))) return false;
                continue;
            }
            if (a[i] != b[i]) return false;
        }
        return true;
    }
}
