using System.Text;
using Kaapana.Dicom;
using Kaapana.Dicom.Deidentification;
using Kaapana.Tests.Dicom.Imaging;

namespace Kaapana.Tests.Dicom.Deidentification;

/// <summary>What the de-identification tests look for in data sets, files and dciodvfy reports.</summary>
public static class DeidentificationProbe
{
    /// <summary>Names, IDs and places that must not survive the Basic Profile (wherever they occur, nested or not).</summary>
    public static readonly DicomTag[] IdentifyingText =
    [
        DicomTags.PatientName, DicomTags.PatientID, DicomTags.PatientBirthDate, new DicomTag(0x0010, 0x1000) /* Other Patient IDs (retired) */, DicomTags.OtherPatientNames,
        DicomTags.PatientAddress, DicomTags.PatientMotherBirthName, DicomTags.InstitutionName, DicomTags.InstitutionAddress,
        DicomTags.InstitutionalDepartmentName, DicomTags.ReferringPhysicianName, DicomTags.PerformingPhysicianName,
        DicomTags.NameOfPhysiciansReadingStudy, DicomTags.OperatorsName, DicomTags.PhysiciansOfRecord, DicomTags.RequestingPhysician,
        DicomTags.AccessionNumber, DicomTags.StationName, DicomTags.DeviceSerialNumber, DicomTags.StudyID, DicomTags.RequestedProcedureID,
    ];

    /// <summary>Every element of a data set, nested ones included, with the data set that holds it.</summary>
    public static IEnumerable<(DicomDataset Owner, DicomElement Element)> Walk(DicomDataset ds)
    {
        foreach (var e in ds)
        {
            yield return (ds, e);
            if (e is DicomSequence sq)
                foreach (var item in sq.Items)
                    foreach (var x in Walk(item)) yield return x;
        }
    }

    /// <summary>The text values of the given tags anywhere in the data set (PN split into components too).</summary>
    public static HashSet<string> ValuesOf(DicomDataset ds, Func<DicomTag, DicomVR, bool> select)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (owner, e) in Walk(ds))
        {
            if (e is not DicomValueElement v || v.IsEmpty) continue;
            // Public text elements stored as UN (implicit VR converted by a tool) count with their dictionary VR.
            var vr = e.VR == DicomVR.UN && !e.Tag.IsPrivate && DicomDictionary.Lookup(e.Tag)?.VRs is [var known] && known.IsString() ? known : e.VR;
            if (!select(e.Tag, vr) || !vr.IsString()) continue;
            var values = vr == e.VR ? owner.GetStrings(e.Tag) : Encoding.ASCII.GetString(v.Span).Split('\\');
            foreach (var s in values)
            {
                var t = s.Trim().Trim('\0').Trim();
                if (t.Length == 0) continue;
                result.Add(t);
                if (vr == DicomVR.PN)
                    foreach (var part in t.Split('^', '='))
                        if (part.Trim().Length >= 4) result.Add(part.Trim());
            }
        }
        return result;
    }

    /// <summary>Every text value of the data set (for "does the original value occur anywhere" checks).</summary>
    public static HashSet<string> AllText(DicomDataset ds) => ValuesOf(ds, (_, _) => true);

    /// <summary>Original values that must be gone: identifying text, all dates (date part of DT) and all UIDs that the profile remaps.</summary>
    public static HashSet<string> Secrets(DicomDataset original, bool datesRemoved = true)
    {
        var set = ValuesOf(original, (t, _) => IdentifyingText.Contains(t));
        if (datesRemoved)
            foreach (var d in ValuesOf(original, (_, vr) => vr is DicomVR.DA or DicomVR.DT))
                if (d.Length >= 8) set.Add(d[..8]);
        foreach (var u in ValuesOf(original, (t, _) => ConfidentialityProfileTable.Find(t) is { Basic: ProfileAction.Uid }))
            set.Add(u);
        // Values that are no secret at all: dummies, and text too short to search for meaningfully.
        set.RemoveWhere(s => s.Length < 3 || s is "ANONYMIZED" or "19000101" or "Anonymized" or "ANONYMOUS" || s.All(c => c is '0' or '.' or ' '));
        return set;
    }

    /// <summary>
    /// Secrets whose ASCII bytes still occur in a file outside the text values checked separately: only strings of 6+ characters
    /// (shorter ones match pixel noise), and not those that are part of a retained value (e.g. an institution "TOSHIBA" inside
    /// the kept Manufacturer "TOSHIBA_MEC"). This catches values hidden in places the data set check does not see
    /// (binary and UN values, the meta information, the preamble).
    /// </summary>
    public static List<string> FoundInBytes(byte[] file, IEnumerable<string> secrets, IReadOnlyCollection<string> outputText) =>
        secrets.Where(s => s.Length >= 6 && Ascii.IsValid(s) && file.AsSpan().IndexOf(Encoding.ASCII.GetBytes(s)) >= 0
            && !outputText.Any(t => t.Contains(s, StringComparison.Ordinal))).ToList();

    /// <summary>The bytes of pixel data (native value or all fragments) for byte-for-byte comparison.</summary>
    public static byte[] PixelBytes(DicomDataset ds)
    {
        if (!ds.TryGetElement(DicomTags.PixelData, out var e)) return [];
        var ms = new MemoryStream();
        switch (e)
        {
            case DicomValueElement v: v.Buffer.CopyTo(ms); break;
            case DicomFragmentSequence f:
                f.OffsetTable.CopyTo(ms);
                foreach (var frag in f.Fragments) { ms.WriteByte(0xFE); frag.CopyTo(ms); }
                break;
        }
        return ms.ToArray();
    }

    /// <summary>dciodvfy's error lines, with the values it quotes removed (a remapped UID or a dummy date is not a new error).</summary>
    /// <summary>Keyed by the normalised line (values replaced by &lt;&gt;, UIDs by &lt;uid&gt;); the value is the line as printed.</summary>
    public static Dictionary<string, string> DciodvfyErrors(string path) => DciodvfyLines(path, "Error");

    /// <summary>dciodvfy's warning lines, normalised like <see cref="DciodvfyErrors"/>.</summary>
    public static Dictionary<string, string> DciodvfyWarnings(string path) => DciodvfyLines(path, "Warning");

    private static Dictionary<string, string> DciodvfyLines(string path, string kind)
    {
        var r = ImagingTools.Run("dciodvfy", path);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (r.Stderr + "\n" + r.Text).Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith(kind, StringComparison.Ordinal)))
        {
            var key = System.Text.RegularExpressions.Regex.Replace(line, "= <[^>]*>|\"[^\"]*\"", "<>");
            key = System.Text.RegularExpressions.Regex.Replace(key, @"\b\d+(\.\d+){2,}\b", "<uid>");
            key = System.Text.RegularExpressions.Regex.Replace(key, @"(ReferencedSOPInstanceUID) \S+", "$1 <uid>");
            result.TryAdd(key, line);
        }
        return result;
    }
}
