using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Kaapana.Tests.Dicom.Json;

/// <summary>
/// Semantic comparison of two DICOM JSON Model documents: attribute keys, "vr", values, InlineBinary bytes, BulkDataURI and
/// sequence items, recursively. Encoding freedom the standard allows is normalised away, nothing else:
/// <list type="bullet">
/// <item>No "Value", an empty "Value" array, and a "Value" holding one empty value (<c>""</c>, <c>null</c>, a PN object with
/// empty groups) all mean "empty".</item>
/// <item><c>null</c> and <c>""</c> are the same empty value inside a multi-valued element.</item>
/// <item>Numbers are compared by value in the VR's own type: FL as float, FD as double, IS/DS as decimal (double if out of
/// decimal range), integer VRs exactly; a JSON String holding a number equals the JSON Number (PS3.18 allows both for
/// IS/DS/SV/UV). So <c>5.000000</c> equals <c>5</c>, and <c>"007"</c> equals <c>7</c>.</item>
/// <item>PN objects are compared group by group; AT hex digits ignore case; InlineBinary compares the decoded bytes.</item>
/// </list>
/// Further, caller-specific allowances (e.g. DCMTK's private dictionary) go through <see cref="Allowance"/>.
/// </summary>
public static class DicomJsonComparer
{
    /// <summary>
    /// Return a reason to accept a difference at <paramref name="path"/> for attribute <paramref name="key"/>, or null.
    /// <paramref name="kind"/> is "missing", "extra", "vr" or "value".
    /// </summary>
    public delegate string? Allowance(string path, string key, string kind, JsonElement? ours, JsonElement? theirs);

    public sealed record Result(List<string> Differences, List<string> Allowed);

    public static Result Compare(JsonElement ours, JsonElement theirs, Allowance? allowance = null, int maxDifferences = 50)
    {
        var result = new Result([], []);
        CompareDataset("", ours, theirs, allowance, result, maxDifferences);
        return result;
    }

    private static void Report(Result r, string message, string? allowedReason, int max)
    {
        if (allowedReason != null) r.Allowed.Add($"{message} [allowed: {allowedReason}]");
        else if (r.Differences.Count < max) r.Differences.Add(message);
    }

    private static void CompareDataset(string path, JsonElement ours, JsonElement theirs, Allowance? allow, Result r, int max)
    {
        var a = ours.EnumerateObject().ToDictionary(p => p.Name.ToUpperInvariant(), p => p.Value);
        var b = theirs.EnumerateObject().ToDictionary(p => p.Name.ToUpperInvariant(), p => p.Value);
        foreach (var key in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
        {
            var p = $"{path}/{key}";
            bool inA = a.TryGetValue(key, out var ea), inB = b.TryGetValue(key, out var eb);
            if (!inB) { Report(r, $"{p}: only in ours: {ea.GetRawText()}", allow?.Invoke(p, key, "extra", ea, null), max); continue; }
            if (!inA) { Report(r, $"{p}: only in theirs: {eb.GetRawText()}", allow?.Invoke(p, key, "missing", null, eb), max); continue; }
            CompareAttribute(p, key, ea, eb, allow, r, max);
        }
    }

    private static void CompareAttribute(string p, string key, JsonElement a, JsonElement b, Allowance? allow, Result r, int max)
    {
        var vrA = a.TryGetProperty("vr", out var va) ? Str(va) : null;
        var vrB = b.TryGetProperty("vr", out var vb) ? Str(vb) : null;
        if (vrA != vrB)
        {
            Report(r, $"{p}: vr {vrA} vs {vrB}", allow?.Invoke(p, key, "vr", a, b), max);
            return; // values of different VRs are not comparable
        }
        var vr = vrA ?? "";
        if (vr == "SQ")
        {
            var itemsA = Items(a);
            var itemsB = Items(b);
            if (itemsA.Count != itemsB.Count)
            {
                Report(r, $"{p}: {itemsA.Count} items vs {itemsB.Count}", allow?.Invoke(p, key, "value", a, b), max);
                return;
            }
            for (int i = 0; i < itemsA.Count; i++) CompareDataset($"{p}/Value/{i}", itemsA[i], itemsB[i], allow, r, max);
            return;
        }
        var sa = Describe(a, vr);
        var sb = Describe(b, vr);
        if (sa != sb) Report(r, $"{p}: {vr} {sa} vs {sb}", allow?.Invoke(p, key, "value", a, b), max);
    }

    private static List<JsonElement> Items(JsonElement attr) =>
        attr.TryGetProperty("Value", out var v) && v.ValueKind == JsonValueKind.Array ? [.. v.EnumerateArray()] : [];

    /// <summary>A canonical text for an attribute's value, per the normalisation rules above.</summary>
    public static string Describe(JsonElement attr, string vr)
    {
        if (attr.TryGetProperty("BulkDataURI", out var uri)) return $"BulkDataURI({Str(uri)})";
        if (attr.TryGetProperty("InlineBinary", out var bin))
        {
            var bytes = Convert.FromBase64String(Str(bin));
            return bytes.Length == 0 ? "[]" : $"bytes({bytes.Length}):{Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 4096)))}#{Hash(bytes)}";
        }
        if (!attr.TryGetProperty("Value", out var value) || value.ValueKind != JsonValueKind.Array) return "[]";
        var list = value.EnumerateArray().Select(v => Canonical(v, vr)).ToList();
        if (list.Count == 1 && list[0].Length == 0) list.Clear();
        return "[" + string.Join(" | ", list) + "]";
    }

    /// <summary>The string, or for text that is not valid UTF-8 (DCMTK writes such) a marker with the raw bytes in hex.</summary>
    public static string Str(JsonElement e)
    {
        try { return e.GetString() ?? ""; }
        catch (InvalidOperationException)
        {
            return InvalidUtf8Marker + Convert.ToHexString(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(e));
        }
    }

    public const string InvalidUtf8Marker = "<invalid UTF-8>";

    private static string Hash(byte[] bytes) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))[..16];

    private static string Canonical(JsonElement v, string vr)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.Null:
                return "";
            case JsonValueKind.Object:
                string G(string name) => v.TryGetProperty(name, out var g) && g.ValueKind == JsonValueKind.String ? Str(g) : "";
                string[] groups = [G("Alphabetic"), G("Ideographic"), G("Phonetic")];
                int n = 3;
                while (n > 0 && groups[n - 1].Length == 0) n--;
                return string.Join('=', groups, 0, n);
        }
        var text = v.ValueKind == JsonValueKind.String ? Str(v) : v.GetRawText();
        var inv = CultureInfo.InvariantCulture;
        switch (vr)
        {
            case "FL":
                return float.TryParse(text, NumberStyles.Float, inv, out var f) ? f.ToString("R", inv) : text;
            case "FD":
                return double.TryParse(text, NumberStyles.Float, inv, out var d) ? d.ToString("R", inv) : text;
            case "IS" or "DS":
                var t = text.Trim();
                if (t.Length == 0) return "";
                if (decimal.TryParse(t, NumberStyles.Float, inv, out var m)) return (m / 1.000000000000000000000000000000000m).ToString(inv);
                return double.TryParse(t, NumberStyles.Float, inv, out var dd) ? dd.ToString("R", inv) : text;
            case "SS" or "US" or "SL" or "UL" or "SV" or "UV":
                return BigInteger.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, inv, out var bi) ? bi.ToString(inv) : text;
            case "AT":
                return text.ToUpperInvariant();
            default:
                return text;
        }
    }
}
