using Kaapana.Dicom;

namespace Kaapana.Tests.Dicom.Conformance;

public class SampleFileParsingTests
{
    [Fact]
    public void Every_sample_file_parses_or_is_listed_as_broken_with_a_format_error()
    {
        var problems = new List<string>();
        foreach (var s in SampleFiles.All)
        {
            bool listed = SampleFiles.Broken.ContainsKey(s.Name);
            switch (s.Error)
            {
                case null when listed:
                    problems.Add($"{s.Name}: listed as broken ({SampleFiles.Broken[s.Name]}) but parses");
                    break;
                case DicomFormatException ex when !listed:
                    problems.Add($"{s.Name}: DicomFormatException but not listed as broken: {ex.Message}");
                    break;
                case null or DicomFormatException:
                    break;
                default:
                    problems.Add($"{s.Name}: {s.Error.GetType().Name} (only DicomFormatException is allowed): {s.Error}");
                    break;
            }
        }
        foreach (var name in SampleFiles.Broken.Keys.Where(k => SampleFiles.All.All(s => s.Name != k)))
            problems.Add($"{name}: listed as broken but not present");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // The sample set is large; a short count would mean a broken installation, not success.
        Assert.True(SampleFiles.Parsed.Count() >= 165, $"only {SampleFiles.Parsed.Count()} files parsed");
    }

    [Fact]
    public void Dcmtk_rejects_every_file_we_list_as_broken()
    {
        var accepted = new List<string>();
        foreach (var name in SampleFiles.Broken.Keys)
        {
            var r = ExternalTools.Run("dcmdump", ["-q", ExternalTools.FullPath(name)]);
            if (r.ExitCode == 0) accepted.Add(name);
        }
        Assert.True(accepted.Count == 0, "dcmdump reads these, so they may not be broken after all: " + string.Join(", ", accepted));
    }

    [Fact]
    public void A_sequence_running_past_the_end_of_the_file_is_closed_there_with_a_warning()
    {
        // DICOMDIR-nooffset: elements were deleted from the last directory records without fixing the item and sequence
        // lengths, so both run 12-24 bytes past the end of the file. DCMTK and pydicom read it; so do we, with a warning.
        var file = DicomFile.Open(ExternalTools.FullPath("test_files/dicomdirtests/DICOMDIR-nooffset"));
        var records = file.Dataset.GetSequence(DicomTags.DirectoryRecordSequence);
        Assert.Equal(52, records.Items.Count);
        Assert.Equal("7", records.Items[^1].GetString(DicomTags.InstanceNumber));
        Assert.Contains(file.Warnings, w => w.Contains("declared end", StringComparison.Ordinal));
        Assert.Empty(DicomFile.Open(ExternalTools.FullPath("test_files/dicomdirtests/DICOMDIR")).Warnings);
    }
}
