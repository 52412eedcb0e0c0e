using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Workflows.BuiltIn;
using Kaapana.Core.Workflows.Runs;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging.Segmentation;
using Kaapana.Tests.Dicom.Deidentification;
using Kaapana.Tests.Dicom.Imaging;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Workflows.BuiltIn;

/// <summary>
/// builtin/deidentify (issue 8 acceptance) through the engine and the archive, without Docker: a CT series full of identifying
/// attributes and a SEG referencing it go into another project de-identified, with consistent, per-project remapping.
/// </summary>
[Collection(BuiltInCollection.Name)]
public class DeidentifyBuiltInTests
{
    private const int Slices = 5, Size = 32;
    private const string PatientName = "Doe^Jane^Quincy", PatientId = "MRN-445566", BirthDate = "19610214";

    private sealed record Source(List<DicomFile> Files, string CtSeries, string SegSeries);

    /// <summary>Ingests the CT and the SEG into <paramref name="project"/>.</summary>
    private static async Task<Source> SeedAsync(BuiltInTestHost host, string project)
    {
        var ct = SyntheticCt.Series(Slices, Size);
        foreach (var f in ct)
        {
            var ds = f.Dataset;
            ds.Set(DicomTags.PatientName, PatientName);
            ds.Set(DicomTags.PatientID, PatientId);
            ds.Set(DicomTags.PatientBirthDate, BirthDate);
            ds.Set(DicomTags.StudyDate, "20240102");
            ds.Set(DicomTags.SeriesDate, "20240102");
            ds.Set(DicomTags.AcquisitionDate, "20240103");
            ds.Set(DicomTags.ContentDate, "20240103");
            ds.Set(DicomTags.InstitutionName, "St Elsewhere Hospital");
            ds.Set(DicomTags.ReferringPhysicianName, "House^Gregory");
            ds.Set(DicomTags.AccessionNumber, "ACC778899");
            ds.Set(DicomTags.StationName, "CTSCAN07");
            ds.Set(DicomTags.DeviceSerialNumber, "SN-4455667");
            ds.Set(DicomTags.StudyDescription, "Chest CT");
        }
        var labels = new LabelVolume(Slices, Size, Size);
        for (int z = 1; z < Slices - 1; z++)
            for (int y = 8; y < 20; y++)
                for (int x = 10; x < 22; x++)
                    labels[z, y, x] = 1;
        var seg = DicomSegmentation.CreateBinary(SourceGeometry.FromInstances(ct.Select(f => f.Dataset)), labels,
        [
            new SegmentDescription
            {
                Number = 1, Label = "Lesion", Category = CodedConcept.MorphologicallyAbnormalStructure, Type = CodedConcept.Tumor,
                AlgorithmType = SegmentAlgorithmType.Automatic,
                Algorithm = new AlgorithmIdentification("TestNet", "1.0", CodedConcept.ArtificialIntelligence),
            },
        ], new SegmentationOptions { DeviceSerialNumber = "SEG-SERIAL-77" });
        var all = ct.Append(seg).ToList();
        foreach (var f in all)
        {
            using var ms = new MemoryStream();
            f.Save(ms);
            ms.Position = 0;
            var r = await host.Ingest.IngestAsync(ms, new IngestContext { Project = project });
            Assert.True(r.IsSuccess, r.Reason);
        }
        return new Source(all, ct[0].Dataset.GetString(DicomTags.SeriesInstanceUID), seg.Dataset.GetString(DicomTags.SeriesInstanceUID));
    }

    /// <summary>Every UID in a data set (nested too) that a de-identification must replace: all but the standard's own.</summary>
    private static HashSet<string> Uids(DicomDataset ds) =>
        DeidentificationProbe.Walk(ds).Where(x => x.Element.VR == DicomVR.UI && x.Element is DicomValueElement)
            .SelectMany(x => x.Owner.GetStrings(x.Element.Tag)).Select(u => u.Trim('\0', ' ')).Where(u => u.Length > 0 && !u.StartsWith("1.2.840.10008.", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

    private static async Task<List<(string Path, DicomFile File)>> OutputsAsync(BuiltInTestHost host, long runId)
    {
        var result = new List<(string, DicomFile)>();
        foreach (var d in await host.Results.ListDerivedSeriesAsync(runId))
            foreach (var path in (await host.FilesOfSeriesAsync(d.SeriesInstanceUID)).Values)
                result.Add((path, DicomFile.Open(path)));
        return result;
    }

    private static JsonObject Params(string target, bool retain = false) =>
        new() { ["targetProject"] = target, ["retainDates"] = retain, ["retainDeviceIdentity"] = retain };

    [Fact]
    public async Task Deidentify_into_a_project_remaps_consistently_keeps_pixels_and_leaves_the_source_alone()
    {
        await using var host = await BuiltInTestHost.StartAsync();
        var sourceProject = await host.ProjectAsync("clinical");
        var targetA = await host.ProjectAsync("research-a");
        await host.ProjectAsync("research-b");
        var source = await SeedAsync(host, "clinical");
        var sourceFiles = new Dictionary<string, string>();
        foreach (var s in new[] { source.CtSeries, source.SegSeries })
            foreach (var (sop, path) in await host.FilesOfSeriesAsync(s)) sourceFiles[sop] = path;
        var sourceBytes = sourceFiles.ToDictionary(kv => kv.Key, kv => File.ReadAllBytes(kv.Value));
        var version = await host.FreezeAsync("clinical", [source.CtSeries, source.SegSeries]);

        // Refused at launch: the source project as target, an unknown project.
        var same = await host.LaunchAsync("builtin/deidentify", version, Params("clinical"));
        Assert.Equal(RunCommandOutcome.Invalid, same.Outcome);
        Assert.Contains("is the source project", same.Errors[0]);
        Assert.Equal(RunCommandOutcome.Invalid, (await host.LaunchAsync("builtin/deidentify", version, Params("nowhere"))).Outcome);

        var runA = await host.RunAsync("builtin/deidentify", version, Params("research-a"));
        var (run, items) = await host.WaitForRunAsync(runA);
        Assert.True(run.State == WorkState.Succeeded, string.Join("\n", items.Select(i => i.Error)));
        Assert.Equal(2, items.Count);

        var outputs = await OutputsAsync(host, runA);
        Assert.Equal(Slices + 1, outputs.Count);
        var originalUids = source.Files.SelectMany(f => Uids(f.Dataset)).ToHashSet(StringComparer.Ordinal);
        Assert.Contains(source.CtSeries, originalUids);
        var ctOut = outputs.Where(o => o.File.Dataset.GetString(DicomTags.Modality) == "CT").ToList();
        var segOut = Assert.Single(outputs, o => o.File.Dataset.GetString(DicomTags.Modality) == "SEG").File;
        foreach (var (path, file) in outputs)
        {
            var ds = file.Dataset;
            var text = DeidentificationProbe.AllText(ds);
            foreach (var secret in new[] { "Doe", "Jane", "Quincy", PatientId, BirthDate, "20240102", "20240103", "Elsewhere", "Gregory", "ACC778899", "CTSCAN07", "SN-4455667", "SEG-SERIAL-77" })
                Assert.DoesNotContain(text, t => t.Contains(secret, StringComparison.Ordinal));
            Assert.StartsWith("ANON-", ds.GetString(DicomTags.PatientID));
            Assert.Equal("", ds.GetString(DicomTags.PatientBirthDate));
            // No original UID anywhere, nested sequences included, nor in the file meta information.
            var leaked = Uids(ds).Intersect(originalUids).ToList();
            Assert.True(leaked.Count == 0, $"original UIDs left in {path}: {string.Join(", ", leaked)}");
            Assert.DoesNotContain(file.FileMetaInfo.GetString(DicomTags.MediaStorageSOPInstanceUID), originalUids);
            Assert.Equal("YES", ds.GetString(DicomTags.PatientIdentityRemoved));
            Assert.Contains("Basic Application Confidentiality Profile", ds.GetStrings(DicomTags.DeidentificationMethod));
            Assert.Equal(["113100"], ds.GetSequence(DicomTags.DeidentificationMethodCodeSequence).Items.Select(i => i.GetString(DicomTags.CodeValue)));
        }
        Assert.Single(outputs.Select(o => o.File.Dataset.GetString(DicomTags.PatientID)).Distinct());

        // References: the SEG points at the de-identified CT instances and series; one study, one frame of reference.
        var newCtSops = ctOut.Select(o => o.File.Dataset.GetString(DicomTags.SOPInstanceUID)).ToHashSet();
        var segRefs = DeidentificationProbe.Walk(segOut.Dataset).Where(x => x.Element.Tag == DicomTags.ReferencedSOPInstanceUID)
            .SelectMany(x => x.Owner.GetStrings(x.Element.Tag)).ToList();
        Assert.True(segRefs.Count >= Slices - 2, $"{segRefs.Count} references in the SEG");
        Assert.All(segRefs, r => Assert.Contains(r, newCtSops));
        Assert.Equal(ctOut[0].File.Dataset.GetString(DicomTags.SeriesInstanceUID),
            segOut.Dataset.GetSequence(DicomTags.ReferencedSeriesSequence).Items[0].GetString(DicomTags.SeriesInstanceUID));
        Assert.Single(outputs.Select(o => o.File.Dataset.GetString(DicomTags.FrameOfReferenceUID)).Distinct());
        Assert.Single(outputs.Select(o => o.File.Dataset.GetString(DicomTags.StudyInstanceUID)).Distinct());
        var read = DicomSegmentation.Read(segOut, SourceGeometry.FromInstances(ctOut.Select(o => o.File.Dataset)));
        Assert.Equal(3 * 12 * 12, read.ToLabelVolume().Data.Count(v => v == 1));

        // Pixel data byte-identical to the source (CT matched by instance number), and dciodvfy finds nothing new.
        foreach (var (path, file) in outputs)
        {
            var number = file.Dataset.GetString(DicomTags.InstanceNumber);
            var modality = file.Dataset.GetString(DicomTags.Modality);
            var original = source.Files.Single(f => f.Dataset.GetString(DicomTags.Modality) == modality && f.Dataset.GetString(DicomTags.InstanceNumber) == number);
            Assert.True(DeidentificationProbe.PixelBytes(original.Dataset).AsSpan().SequenceEqual(DeidentificationProbe.PixelBytes(file.Dataset)), $"pixel data of {modality} {number}");
            var before = DeidentificationProbe.DciodvfyErrors(sourceFiles[original.Dataset.GetString(DicomTags.SOPInstanceUID)]);
            var after = DeidentificationProbe.DciodvfyErrors(path);
            var added = after.Keys.Except(before.Keys).Select(k => after[k]).ToList();
            Assert.True(added.Count == 0, $"new dciodvfy errors in the de-identified {modality}:\n{string.Join('\n', added)}");
        }

        // Filed in the target project and its run dataset, with provenance back to the source series; the source is untouched.
        await using (var db = host.CreateDb())
        {
            var outSeries = outputs.Select(o => o.File.Dataset.GetString(DicomTags.SeriesInstanceUID)).Distinct().ToList();
            Assert.Equal(2, await db.ProjectSeries.CountAsync(l => l.ProjectId == targetA && outSeries.Contains(l.Series.SeriesInstanceUID)));
            Assert.Equal(0, await db.ProjectSeries.CountAsync(l => l.ProjectId == sourceProject && outSeries.Contains(l.Series.SeriesInstanceUID)));
            var dataset = await db.Datasets.SingleAsync(d => d.ProjectId == targetA && d.Name == DeidentifyWorkflow.DatasetName(run));
            Assert.Equal(2, await db.DatasetSeries.CountAsync(l => l.DatasetId == dataset.Id));
        }
        var provenance = (await host.Results.GetProvenanceAsync(ctOut[0].File.Dataset.GetString(DicomTags.SeriesInstanceUID)))!;
        Assert.Equal("builtin/deidentify", provenance["algorithm"]!["name"]!.GetValue<string>());
        Assert.Equal(source.CtSeries, provenance["sourceSeriesInstanceUIDs"]![0]!.GetValue<string>());
        foreach (var (sop, path) in sourceFiles)
            Assert.True(sourceBytes[sop].AsSpan().SequenceEqual(File.ReadAllBytes(path)), $"source {sop} changed");

        // Again into the same project: the same output (every instance is a duplicate with identical content).
        var again = await host.RunAsync("builtin/deidentify", version, Params("research-a"));
        var (againRun, againItems) = await host.WaitForRunAsync(again);
        Assert.True(againRun.State == WorkState.Succeeded, string.Join("\n", againItems.Select(i => i.Error)));
        var againMetrics = (await host.Results.GetMetricsAsync(again))!.Rows;
        Assert.Equal(Slices + 1, againMetrics.Sum(r => r.Values["alreadyPresent"]!.GetValue<int>()));
        Assert.Equal(0, againMetrics.Sum(r => r.Values["stored"]!.GetValue<int>()));

        // Into another project: other UIDs and another pseudonym.
        var runB = await host.RunAsync("builtin/deidentify", version, Params("research-b"));
        Assert.Equal(WorkState.Succeeded, (await host.WaitForRunAsync(runB)).Run.State);
        var outputsB = await OutputsAsync(host, runB);
        Assert.Equal(Slices + 1, outputsB.Count);
        var uidsA = outputs.SelectMany(o => Uids(o.File.Dataset)).ToHashSet();
        var uidsB = outputsB.SelectMany(o => Uids(o.File.Dataset)).ToHashSet();
        Assert.Empty(uidsA.Intersect(uidsB));
        Assert.NotEqual(outputs[0].File.Dataset.GetString(DicomTags.PatientID), outputsB[0].File.Dataset.GetString(DicomTags.PatientID));
        await using (var db = host.CreateDb())
            Assert.Equal(2, await db.DeidentificationKeys.CountAsync());
    }

    [Fact]
    public async Task Retain_options_keep_full_dates_and_device_identity_and_say_so()
    {
        await using var host = await BuiltInTestHost.StartAsync();
        await host.ProjectAsync("clinical");
        await host.ProjectAsync("longitudinal");
        var source = await SeedAsync(host, "clinical");
        var version = await host.FreezeAsync("clinical", [source.CtSeries]);
        var runId = await host.RunAsync("builtin/deidentify", version, Params("longitudinal", retain: true));
        var (run, items) = await host.WaitForRunAsync(runId);
        Assert.True(run.State == WorkState.Succeeded, string.Join("\n", items.Select(i => i.Error)));
        var outputs = await OutputsAsync(host, runId);
        Assert.Equal(Slices, outputs.Count);
        foreach (var (_, file) in outputs)
        {
            var ds = file.Dataset;
            Assert.Equal("20240102", ds.GetString(DicomTags.StudyDate));
            Assert.Equal("20240103", ds.GetString(DicomTags.AcquisitionDate));
            Assert.Equal("CTSCAN07", ds.GetString(DicomTags.StationName));
            Assert.Equal("SN-4455667", ds.GetString(DicomTags.DeviceSerialNumber));
            Assert.Equal("", ds.GetString(DicomTags.PatientBirthDate)); // not a longitudinal date of the study
            Assert.DoesNotContain("Doe", ds.GetString(DicomTags.PatientName));
            Assert.Equal("UNMODIFIED", ds.GetString(DicomTags.LongitudinalTemporalInformationModified));
            Assert.Equal(["113100", "113106", "113109"],
                ds.GetSequence(DicomTags.DeidentificationMethodCodeSequence).Items.Select(i => i.GetString(DicomTags.CodeValue)).Order());
        }
    }
}
