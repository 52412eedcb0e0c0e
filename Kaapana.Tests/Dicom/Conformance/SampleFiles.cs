using Kaapana.Dicom;

namespace Kaapana.Tests.Dicom.Conformance;

/// <summary>
/// The pydicom sample files (Debian python3-pydicom), parsed once per test run, and the files that must NOT parse, each with
/// the reason. Every broken DICOM file here was checked with dcmdump/xxd; DCMTK rejects each of them too (asserted in
/// <see cref="SampleFileParsingTests"/>).
/// </summary>
public static class SampleFiles
{
    private const string NotDicom = "not DICOM";

    /// <summary>Paths relative to the pydicom data directory, with why they are broken.</summary>
    public static readonly IReadOnlyDictionary<string, string> Broken = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["charset_files/FileInfo.txt"] = NotDicom + " (text table describing the charset files)",
        ["test_files/README.txt"] = NotDicom + " (text)",
        ["test_files/dicomdirtests/README.txt"] = NotDicom + " (text)",
        ["test_files/dicomdirtests/TINY_ALPHA/README"] = NotDicom + " (text)",
        ["test_files/rtplan.dump"] = NotDicom + " (a pydicom text dump)",
        ["test_files/rtstruct.dump"] = NotDicom + " (a pydicom text dump)",
        ["test_files/test1.json"] = NotDicom + " (DICOM JSON model, not Part 10)",
        ["test_files/test_PN.json"] = NotDicom + " (DICOM JSON model, not Part 10)",
        ["test_files/zipMR.gz"] = NotDicom + " (gzip archive of a DICOM file)",
        ["test_files/MR_truncated.dcm"] =
            "truncated: Pixel Data (7FE0,0010) declares 8192 bytes but only 8130 follow (deliberately cut; DCMTK: 'larger than remaining bytes')",
        ["test_files/rtplan_truncated.dcm"] =
            "truncated: Isocenter Position (300A,012C), nested in Beam Sequence (300A,00B0), declares 50 bytes but only 29 follow "
            + "(deliberately cut; DCMTK: 'larger (50) than remaining bytes (29)')",
        ["test_files/no_meta.dcm"] =
            "a stray byte 0x20 precedes the data set: the rest is CT_small.dcm's data set (explicit VR LE) shifted by one, "
            + "so the first tag reads as (0820,0500) with an absurd length (DCMTK fails the same way)",
    };

    public sealed record Sample(string Name, string FullPath, DicomFile? File, Exception? Error);

    private static readonly Lazy<IReadOnlyList<Sample>> s_all = new(() =>
        ExternalTools.AllSampleFiles().Select(name =>
        {
            var full = ExternalTools.FullPath(name);
            try { return new Sample(name, full, DicomFile.Open(full), null); }
            catch (Exception ex) { return new Sample(name, full, null, ex); }
        }).ToList());

    /// <summary>Every file under test_files and charset_files, with the result of <see cref="DicomFile.Open"/>.</summary>
    public static IReadOnlyList<Sample> All => s_all.Value;

    /// <summary>The files that parsed.</summary>
    public static IEnumerable<Sample> Parsed => All.Where(s => s.File != null);

    /// <summary>
    /// Files DCMTK cannot read as a whole, but whose data set it reads when told the encoding. For these DCMTK's reference
    /// listing is dcmdump of the data set bytes alone (after the meta group) with the given flags; it has no meta part.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (string Reason, string[] Flags)> DcmtkReadsDatasetOnly =
        new Dictionary<string, (string, string[])>(StringComparer.Ordinal)
        {
            ["test_files/SC_rgb_jpeg.dcm"] = (
                "the meta information says JPEG Baseline (explicit VR LE) but the data set is implicit VR LE; DCMTK trusts the "
                + "meta information and fails on the first element, we (like pydicom) detect implicit VR from the first element",
                ["-f", "-ti"]),
        };

    /// <summary>dcmdump listings of the samples by name (one dcmdump run for all; data set only for <see cref="DcmtkReadsDatasetOnly"/>).</summary>
    public static Dictionary<string, DcmdumpListing.FileListing> DcmtkListings(IEnumerable<Sample> samples)
    {
        var list = samples.ToList();
        var normal = list.Where(s => !DcmtkReadsDatasetOnly.ContainsKey(s.Name)).ToList();
        var byPath = DcmdumpListing.Dump(normal.Select(s => s.FullPath));
        var result = new Dictionary<string, DcmdumpListing.FileListing>(StringComparer.Ordinal);
        foreach (var s in normal)
            if (byPath.TryGetValue(s.FullPath, out var l)) result[s.Name] = l;
        foreach (var s in list.Where(s => DcmtkReadsDatasetOnly.ContainsKey(s.Name)))
        {
            // The meta group ends 12 bytes (its own group length element) plus that length after the preamble and "DICM".
            var metaLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(
                ((DicomValueElement)s.File!.FileMetaInfo[new DicomTag(0x0002, 0x0000)]).Span);
            var tmp = Path.Combine(Path.GetTempPath(), $"kaapana-dsonly-{Guid.NewGuid():N}.dcm");
            try
            {
                File.WriteAllBytes(tmp, File.ReadAllBytes(s.FullPath)[(int)(132 + 12 + metaLength)..]);
                result[s.Name] = DcmdumpListing.Dump([tmp], DcmtkReadsDatasetOnly[s.Name].Flags)[tmp];
            }
            finally
            {
                File.Delete(tmp);
            }
        }
        return result;
    }

    /// <summary>
    /// Neither the data set nor the meta information has a SOP Class or Instance UID (empty_charset_LEI.dcm,
    /// meta_missing_tsyntax.dcm): our writer refuses to write such a file (a Part 10 meta needs both).
    /// </summary>
    public static bool LacksSopUids(DicomFile f) =>
        (f.Dataset.GetString(DicomTags.SOPClassUID).Length == 0 && f.FileMetaInfo.GetString(DicomTags.MediaStorageSOPClassUID).Length == 0)
        || (f.Dataset.GetString(DicomTags.SOPInstanceUID).Length == 0 && f.FileMetaInfo.GetString(DicomTags.MediaStorageSOPInstanceUID).Length == 0);

    public static bool IsCharsetFile(string name) => name.StartsWith("charset_files/", StringComparison.Ordinal);
}
