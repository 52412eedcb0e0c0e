using Kaapana.Dicom;

namespace Kaapana.Tests.Dicom.Conformance;

/// <summary>
/// Compares dcmdump of an original file with dcmdump of our re-encoding of it: the same data set, element by element
/// (depth, tag, VR, VM, length, value text as DCMTK prints it, item and fragment counts). Differences that re-encoding
/// causes by design are handled by these rules and nothing else:
/// <list type="number">
/// <item><b>Meta information</b> is rebuilt by the writer (implementation UID/version, group length, transfer syntax), so
/// it is not compared here; the test checks the new Transfer Syntax UID separately.</item>
/// <item><b>Group length elements</b> (gggg,0000) outside the meta group are retired (PS3.5 7.2) and dropped by default.</item>
/// <item><b>Delimiters and lengths of sequences and items</b> depend on the defined/undefined length options: delimiter
/// lines are removed and sequence/item lengths are not compared (their item and element counts are).</item>
/// <item><b>VRs that are not encoded.</b> Written in implicit VR, an element's VR is whatever the reader's dictionary says:
/// private tags (DCMTK's private.dic, or "??"), elements the source held as UN, and ambiguous pixel-type VRs (OB/OW) may
/// change. Likewise private tags read from implicit VR sources are written as UN. For such elements the tag and length are
/// compared, and the value too when the VR did not change.</item>
/// <item><b>Odd lengths</b> are padded to even (PS3.5 7.1.1 requires even value lengths): one byte longer, value not compared.</item>
/// </list>
/// </summary>
public static class RoundTripComparer
{
    private const uint ItemDelimiter = 0xFFFEE00D, SequenceDelimiter = 0xFFFEE0DD;

    public static List<string> Compare(IReadOnlyList<DcmdumpEntry> original, IReadOnlyList<DcmdumpEntry> written, bool targetImplicit, int maxDifferences = 10)
    {
        static bool Keep(DcmdumpEntry e) => !e.IsMeta && e.Tag is not (ItemDelimiter or SequenceDelimiter); // rules 1, 3
        var a = original.Where(e => Keep(e) && !((e.Tag & 0xFFFF) == 0 && e.Vr is "UL")).ToList();      // rule 2
        var b = written.Where(Keep).ToList();
        var diffs = new List<string>();
        for (int i = 0; i < Math.Min(a.Count, b.Count) && diffs.Count < maxDifferences; i++)
        {
            var d = CompareEntry(a[i], b[i], targetImplicit);
            if (d is null) continue;
            diffs.Add($"#{i}: {d}\n    original: {a[i]}\n    written:  {b[i]}");
            if (a[i].Tag != b[i].Tag || a[i].Depth != b[i].Depth) return diffs;
        }
        if (a.Count != b.Count && diffs.Count < maxDifferences)
            diffs.Add($"element count differs: original {a.Count}, written {b.Count}");
        return diffs;
    }

    private static string? CompareEntry(DcmdumpEntry o, DcmdumpEntry w, bool targetImplicit)
    {
        if (o.Depth != w.Depth) return "depth differs";
        if (o.Tag != w.Tag) return "tag differs";
        if (o.Vr is "na" or "SQ" || w.Vr is "na" or "SQ")
            return o.Vr == w.Vr && o.Count == w.Count ? null : "sequence or item differs"; // rule 3: no lengths
        bool padded = o.Length is { } ol && (ol & 1) == 1 && w.Length == ol + 1;       // rule 5
        if (o.Length != w.Length && !padded) return "length differs";
        if (o.Vr != w.Vr)
        {
            bool vrNotEncoded = targetImplicit || w.Vr == "UN";
            bool mayChange = IsPrivate(o.Tag) || o.Vr is "UN" or "??" || (o.Vr is "OB" or "OW" && w.Vr is "OB" or "OW");
            return vrNotEncoded && mayChange ? null : "VR differs"; // rule 4
        }
        if (padded) return null;
        if (o.VM != w.VM) return "VM differs";
        return o.Value == w.Value ? null : "value differs";
    }

    private static bool IsPrivate(uint tag) => new DicomTag(tag).IsPrivate;
}
