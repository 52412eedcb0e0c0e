using Kaapana.Dicom;
using Kaapana.Dicom.Deidentification;
using Kaapana.Tests.Dicom.Conformance;
using Kaapana.Tests.Dicom.Imaging;

namespace Kaapana.Tests.Dicom.Deidentification;

/// <summary>
/// Every pydicom sample file that parses (the deliberately broken ones are listed in <see cref="SampleFiles.Broken"/>) is
/// de-identified through the streaming file path and checked: no original identifying value or date or remapped UID in the data
/// set or anywhere in the output bytes, pixel data byte-identical, dcmdump reads it, and dciodvfy reports no error the
/// original did not have.
/// </summary>
public class DeidentificationSampleFileTests
{
    private static readonly byte[] Secret = "sample-file-test-secret-0123456789"u8.ToArray();

    [Fact]
    public void SampleFilesLoseTheirIdentityAndStayValid()
    {
        var deidentifier = new DicomDeidentifier(new DeidentificationOptions(), new HmacDeidentificationMapping(Secret, "project-a"));
        using var dir = new ImagingTools.TempDir();
        var failures = new List<string>();
        var newWarnings = new Dictionary<string, int>();
        var warningExample = new Dictionary<string, string>();
        int goneWarnings = 0;
        static string Kind(string w) => System.Text.RegularExpressions.Regex.Replace(w, @"Element=<>.*|\(0x[0-9a-f]{4},0x[0-9a-f]{4}\).*", "").Trim();
        int checkedFiles = 0, withPixels = 0, dciodvfyCompared = 0, directories = 0, withoutUids = 0;
        foreach (var sample in SampleFiles.Parsed.Where(s => !SampleFiles.Broken.ContainsKey(s.Name)))
        {
            var output = dir.File(sample.Name.Replace('/', '_') + ".dcm");
            if (sample.File!.Dataset.Contains(DicomTags.DirectoryRecordSequence))
            {
                // A DICOMDIR names files by path, often by patient ID: refused with a clear message instead of half de-identified.
                var ex = Assert.Throws<DicomException>(() => deidentifier.DeidentifyFile(sample.FullPath, output));
                Assert.Contains("DICOMDIR", ex.Message);
                directories++;
                continue;
            }
            if (SampleFiles.LacksSopUids(sample.File!))
            {
                // No SOP UIDs anywhere: the writer refuses the output rather than write a meta with empty UIDs.
                var ex = Assert.Throws<DicomException>(() => deidentifier.DeidentifyFile(sample.FullPath, output));
                Assert.Contains("SOP", ex.Message);
                withoutUids++;
                continue;
            }
            try
            {
                deidentifier.DeidentifyFile(sample.FullPath, output);
            }
            catch (Exception ex)
            {
                failures.Add($"{sample.Name}: de-identification failed: {ex.GetType().Name}: {ex.Message}");
                continue;
            }
            checkedFiles++;
            var original = sample.File!.Dataset;
            var result = DicomFile.Open(output);

            var secrets = DeidentificationProbe.Secrets(original);
            var inDataset = secrets.Intersect(DeidentificationProbe.AllText(result.Dataset)).ToList();
            if (inDataset.Count > 0) failures.Add($"{sample.Name}: original values still in the data set: {string.Join(", ", inDataset)}");
            var inBytes = DeidentificationProbe.FoundInBytes(File.ReadAllBytes(output), secrets, DeidentificationProbe.AllText(result.Dataset));
            if (inBytes.Count > 0) failures.Add($"{sample.Name}: original values still in the file bytes: {string.Join(", ", inBytes)}");
            if (result.Dataset.Any(e => e.Tag.IsPrivate)) failures.Add($"{sample.Name}: private elements left");
            if (original.Contains(DicomTags.SOPInstanceUID)
                && result.FileMetaInfo.GetString(DicomTags.MediaStorageSOPInstanceUID) != result.Dataset.GetString(DicomTags.SOPInstanceUID))
                failures.Add($"{sample.Name}: Media Storage SOP Instance UID does not follow the SOP Instance UID");
            if (result.Dataset.GetString(DicomTags.PatientIdentityRemoved) != "YES") failures.Add($"{sample.Name}: Patient Identity Removed not YES");

            var pixels = DeidentificationProbe.PixelBytes(original);
            if (pixels.Length > 0) withPixels++;
            if (!pixels.AsSpan().SequenceEqual(DeidentificationProbe.PixelBytes(result.Dataset)))
                failures.Add($"{sample.Name}: pixel data differs");

            var dump = ImagingTools.Run("dcmdump", output);
            if (dump.ExitCode != 0) failures.Add($"{sample.Name}: dcmdump exited {dump.ExitCode}: {dump.Stderr}");

            // Compared with the original: the writer itself adds no dciodvfy error any more (it used to write hex or empty Media
            // Storage UIDs for data sets whose SOP UIDs were UN or missing, which this test had to baseline by a plain re-write).
            var before = DeidentificationProbe.DciodvfyErrors(sample.FullPath);
            var after = DeidentificationProbe.DciodvfyErrors(output);
            var added = after.Keys.Except(before.Keys).Select(k => after[k]).ToList();
            dciodvfyCompared++;
            // Warnings may differ (e.g. a dummy where the original was empty, an attribute now zero length): counted, not failed.
            var warningsBefore = DeidentificationProbe.DciodvfyWarnings(sample.FullPath).Keys.ToHashSet();
            var warningsAfterRaw = DeidentificationProbe.DciodvfyWarnings(output);
            var warningsAfter = warningsAfterRaw.Keys.ToHashSet();
            foreach (var w in warningsAfter.Except(warningsBefore))
            {
                newWarnings[Kind(w)] = newWarnings.GetValueOrDefault(Kind(w)) + 1;
                warningExample.TryAdd(Kind(w), warningsAfterRaw[w]);
            }
            goneWarnings += warningsBefore.Except(warningsAfter).Count();
            if (added.Count > 0) failures.Add($"{sample.Name}: new dciodvfy errors:\n    {string.Join("\n    ", added)}");
        }
        Console.WriteLine($"De-identified {checkedFiles} sample files ({withPixels} with pixel data), refused {directories} DICOMDIRs "
            + $"and {withoutUids} files without SOP UIDs");
        Console.WriteLine($"dciodvfy warnings gone: {goneWarnings}; new warnings by kind:\n{string.Join('\n', newWarnings.OrderByDescending(x => x.Value).Select(x => $"  {x.Value} x {x.Key} (e.g. {warningExample[x.Key]})"))}");
        Assert.True(failures.Count == 0, $"{failures.Count} problems in {checkedFiles} files:\n{string.Join('\n', failures)}");
        Assert.True(directories >= 7, $"only {directories} DICOMDIRs seen");
        Assert.True(checkedFiles > 100, $"only {checkedFiles} sample files checked");
        Assert.True(withPixels > 50, $"only {withPixels} files with pixel data");
        Assert.Equal(checkedFiles, dciodvfyCompared);
    }
}
