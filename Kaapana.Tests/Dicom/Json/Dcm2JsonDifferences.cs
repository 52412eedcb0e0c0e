using System.Globalization;
using System.Text.Json;

namespace Kaapana.Tests.Dicom.Json;

/// <summary>
/// The systematic differences between DCMTK 3.6.7 <c>dcm2json</c> and our DICOM JSON output found on the pydicom sample
/// files. Each rule matches only its own case; anything else is a failure.
/// <list type="number">
/// <item><b>Negative zero.</b> DCMTK prints an FL/FD value of -0 as <c>0</c>; we keep <c>-0</c> (the exact value, and it
/// round-trips). Accepted when the numbers are equal.</item>
/// <item><b>Specific Character Set in items.</b> Both sides write the text as Unicode and relabel the top-level
/// (0008,0005) as ISO_IR 192. DCMTK keeps the original terms of an item's own (0008,0005) (e.g. DICOMDIR records); we
/// relabel those too, since their text is also decoded. Accepted for a nested (0008,0005) that we write as ISO_IR 192.</item>
/// <item><b>Empty Specific Character Set.</b> DCMTK writes ISO_IR 192 even for a present but empty (0008,0005) (i.e. the
/// default repertoire); we keep it empty.</item>
/// <item><b>Unconvertible text.</b> DCMTK's iconv lacks ISO 2022 IR 87/159; where an item declares such a set DCMTK
/// writes the raw ISO 2022 bytes, which are not valid UTF-8, while we decode them. Accepted where DCMTK's text is not valid
/// UTF-8 (the values are checked separately against pydicom's expectations in the character set tests).</item>
/// <item><b>Delimiter-only person names.</b> A PN such as <c>^^^^</c> has only empty components; DCMTK drops it as empty,
/// we keep the delimiters (same name, byte-exact round trip).</item>
/// <item><b>Odd-length values.</b> DCMTK pads an odd-length value (malformed, e.g. UN in nested_priv_SQ.dcm) with a zero
/// byte when reading; our reader keeps the bytes of the file. Accepted when DCMTK's bytes are ours plus one 0x00.</item>
/// </list>
/// </summary>
public static class Dcm2JsonDifferences
{
    public static string? Allow(string path, string key, string kind, JsonElement? ours, JsonElement? theirs)
    {
        if (kind != "value" || ours is not { } a || theirs is not { } b) return null;
        var vr = DicomJsonComparer.Str(a.GetProperty("vr"));
        var da = DicomJsonComparer.Describe(a, vr);
        var db = DicomJsonComparer.Describe(b, vr);
        bool nested = path.LastIndexOf('/') > 0;

        if (vr is "FL" or "FD" && NumbersEqual(a, b)) return "rule 1: DCMTK prints -0 as 0";
        if (key == "00080005" && nested && da == "[ISO_IR 192]") return "rule 2: DCMTK keeps an item's own character set terms";
        if (key == "00080005" && !nested && da == "[]" && db == "[ISO_IR 192]") return "rule 3: DCMTK labels an empty declaration ISO_IR 192";
        if (db.Contains(DicomJsonComparer.InvalidUtf8Marker, StringComparison.Ordinal)) return "rule 4: DCMTK could not convert this text to UTF-8";
        if (vr == "PN" && db == "[]" && da.Trim('[', ']').All(c => c is '^' or '=')) return "rule 5: DCMTK treats a delimiter-only name as empty";
        if (a.TryGetProperty("InlineBinary", out var ia) && b.TryGetProperty("InlineBinary", out var ib))
        {
            var x = ia.GetBytesFromBase64();
            var y = ib.GetBytesFromBase64();
            if (x.Length % 2 == 1 && y.Length == x.Length + 1 && y[^1] == 0 && y.AsSpan(0, x.Length).SequenceEqual(x))
                return "rule 6: DCMTK pads an odd-length value";
        }
        return null;
    }

    private static bool NumbersEqual(JsonElement a, JsonElement b)
    {
        if (!a.TryGetProperty("Value", out var va) || !b.TryGetProperty("Value", out var vb)) return false;
        var x = va.EnumerateArray().ToList();
        var y = vb.EnumerateArray().ToList();
        if (x.Count != y.Count) return false;
        for (int i = 0; i < x.Count; i++)
        {
            if (x[i].ValueKind != JsonValueKind.Number || y[i].ValueKind != JsonValueKind.Number) return false;
            if (double.Parse(x[i].GetRawText(), CultureInfo.InvariantCulture) != double.Parse(y[i].GetRawText(), CultureInfo.InvariantCulture)) return false;
        }
        return true;
    }
}
