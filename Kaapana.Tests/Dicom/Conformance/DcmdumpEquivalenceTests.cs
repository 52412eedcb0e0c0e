using Kaapana.Dicom;
using Xunit.Abstractions;

namespace Kaapana.Tests.Dicom.Conformance;

/// <summary>
/// Our <see cref="DicomDump"/> listing of every parsed sample file equals DCMTK's dcmdump listing (see <see cref="DumpComparer"/>
/// for what is compared and the documented DCMTK differences).
/// </summary>
public class DcmdumpEquivalenceTests(ITestOutputHelper output)
{
    /// <summary>
    /// Charset files DCMTK cannot convert to UTF-8: the Debian build uses glibc iconv, which lacks ISO 2022 IR 87 (JIS X 0208)
    /// ("not supported by the utilized character set conversion library"). Their text is checked against the expected
    /// first Patient's Name in the file instead (PS3.5 Annex H examples, as listed in the files' FileInfo.txt; the SQ files
    /// hold it in a sequence item whose own Specific Character Set differs from, or is inherited from, the data set's).
    /// </summary>
    private static readonly Dictionary<string, string> CharsetFilesDcmtkCannotConvert = new()
    {
        ["charset_files/chrH31.dcm"] = "Yamada^Tarou=山田^太郎=やまだ^たろう",
        ["charset_files/chrH32.dcm"] = "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
        ["charset_files/chrJapMulti.dcm"] = "やまだ^たろう",
        ["charset_files/chrJapMultiExplicitIR6.dcm"] = "やまだ^たろう",
        ["charset_files/chrSQEncoding.dcm"] = "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
        ["charset_files/chrSQEncoding1.dcm"] = "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
    };

    [Fact]
    public void Listing_matches_dcmdump_for_every_parsed_sample_file()
    {
        var samples = SampleFiles.Parsed.ToList();
        var listings = SampleFiles.DcmtkListings(samples);
        var failures = new List<string>();
        int compared = 0, lines = 0;
        foreach (var s in samples)
        {
            var listing = listings.GetValueOrDefault(s.Name);
            if (listing is null || listing.Entries.Count == 0)
            {
                failures.Add($"{s.Name}: dcmdump cannot read it (and it is not in SampleFiles.DcmtkReadsDatasetOnly)");
                continue;
            }
            var ours = DicomDump.Lines(s.File!).ToList();
            bool datasetOnly = SampleFiles.DcmtkReadsDatasetOnly.ContainsKey(s.Name);
            if (datasetOnly) ours = ours.Where(l => !l.IsMeta).ToList();
            // Text of charset files is compared against a UTF-8 conversion below; here structure, VRs, VMs and lengths.
            var mode = SampleFiles.IsCharsetFile(s.Name) ? DumpComparer.TextMode.SkipCharsetText : DumpComparer.TextMode.Latin1;
            var diffs = DumpComparer.Compare(ours, listing.Entries, mode);
            diffs.AddRange(listing.UnparsedLines.Select(l => "unparsed dcmdump line " + l));
            if (datasetOnly && s.File!.Warnings.Count == 0) diffs.Add("expected a warning about the mismatched VR encoding");
            compared++;
            lines += ours.Count;
            if (diffs.Count > 0) failures.Add($"{s.Name}:\n  " + string.Join("\n  ", diffs));
        }
        output.WriteLine($"{compared} files, {lines} lines compared with dcmdump");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(compared >= 165, $"only {compared} files compared");
    }

    [Fact]
    public void Decoded_text_of_charset_files_matches_dcmconv_utf8_conversion()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"kaapana-charset-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var failures = new List<string>();
            var converted = new Dictionary<string, (SampleFiles.Sample Sample, string Path)>();
            foreach (var s in SampleFiles.Parsed.Where(s => SampleFiles.IsCharsetFile(s.Name)))
            {
                var target = Path.Combine(dir, Path.GetFileName(s.Name));
                var r = ExternalTools.Run("dcmconv", ["+U8", s.FullPath, target]);
                bool expectedFailure = CharsetFilesDcmtkCannotConvert.ContainsKey(s.Name);
                if (r.ExitCode == 0 && !expectedFailure) converted[target] = (s, target);
                else if (r.ExitCode == 0) failures.Add($"{s.Name}: dcmconv +U8 now converts it; remove it from the exception list");
                else if (!expectedFailure) failures.Add($"{s.Name}: dcmconv +U8 failed: {r.Stderr}");
            }
            var listings = DcmdumpListing.Dump(converted.Keys);
            foreach (var (path, (s, _)) in converted)
            {
                var ours = DicomDump.Lines(s.File!).Where(l => !l.IsMeta).ToList();
                var diffs = DumpComparer.Compare(ours, listings[path].Entries.Where(e => !e.IsMeta).ToList(), DumpComparer.TextMode.Utf8);
                if (diffs.Count > 0) failures.Add($"{s.Name}:\n  " + string.Join("\n  ", diffs));
            }
            foreach (var (name, expected) in CharsetFilesDcmtkCannotConvert)
            {
                var file = DicomFile.Open(ExternalTools.FullPath(name));
                var actual = DicomDump.Lines(file).First(l => l.Tag == DicomTags.PatientName).Value?.TrimEnd(' ');
                if (actual != expected) failures.Add($"{name}: PatientName '{actual}', expected '{expected}'");
            }
            output.WriteLine($"{converted.Count} charset files compared with dcmconv +U8; {CharsetFilesDcmtkCannotConvert.Count} DCMTK cannot convert");
            Assert.True(failures.Count == 0, string.Join("\n", failures));
            Assert.True(converted.Count >= 10, $"only {converted.Count} charset files converted");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
