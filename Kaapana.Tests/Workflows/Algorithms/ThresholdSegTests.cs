using System.Text.Json.Nodes;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Core.Workflows.Manifest;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Segmentation;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Workflows.Docker;

namespace Kaapana.Tests.Workflows.Algorithms;

/// <summary>
/// algorithms/threshold-seg as a container (the real image on the test daemon, through <see cref="IContainerRunner"/>):
/// CT series in, one binary SEG per series out, checked against masks computed here from the phantom's known HU values.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class ThresholdSegTests(DockerTestEngine engine)
{
    [Fact]
    public async Task Three_ct_series_give_three_valid_segs_of_exactly_the_voxels_in_range_referencing_their_sources()
    {
        using var work = new WorkFolder();
        var phantom = CtPhantomInput.ThreeSeries();
        // Bounds on the ramp's integer values: inclusive at both ends.
        CtPhantomInput.Stage(work.Input, phantom, new JsonObject { ["lower"] = -150, ["upper"] = 150.0, ["label"] = "Soft tissue" });

        var result = await AlgorithmImages.RunAsync(engine, work, AlgorithmImages.ThresholdSeg);

        Assert.True(result.Outcome == ContainerOutcome.Succeeded, $"{result.Outcome} ({result.ExitCode}): {result.Logs.Text()}");
        var stdout = result.Logs.Text(ContainerLogStream.Stdout);
        Assert.Contains("3 series, voxels within [-150, 150] HU as 'Soft tissue'", stdout);
        Assert.Contains("done, 3 segmentation(s) written for 3 series", stdout);
        Assert.Equal(phantom.Select(p => $"{p.SeriesUid}/seg.dcm").Order(StringComparer.Ordinal),
            Directory.EnumerateFiles(work.Output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(work.Output, f)).Order(StringComparer.Ordinal));

        var segUids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in phantom)
        {
            var path = Path.Combine(work.Output, source.SeriesUid, "seg.dcm");
            AlgorithmImages.AssertValidIod(path);
            var seg = DicomFile.Open(path);
            var ds = seg.Dataset;
            Assert.Equal(DicomUids.SegmentationStorage, ds.GetString(DicomTags.SOPClassUID));
            Assert.Equal("SEG", ds.GetString(DicomTags.Modality));
            Assert.Equal("BINARY", ds.GetString(DicomTags.SegmentationType));
            Assert.Equal(source.StudyUid, ds.GetString(DicomTags.StudyInstanceUID));
            Assert.Equal("PHANTOM-1", ds.GetString(DicomTags.PatientID));
            Assert.Equal(source.FrameOfReferenceUid, ds.GetString(DicomTags.FrameOfReferenceUID));
            Assert.NotEqual(source.SeriesUid, ds.GetString(DicomTags.SeriesInstanceUID));
            Assert.StartsWith("2.25.", ds.GetString(DicomTags.SOPInstanceUID));
            Assert.True(segUids.Add(ds.GetString(DicomTags.SeriesInstanceUID)), "each source series gets its own SEG series");
            Assert.Equal("Soft tissue", ds.GetSequence(DicomTags.SegmentSequence).Items.Single().GetString(DicomTags.SegmentLabel));

            // References: the source series, and per frame the source slice it was derived from.
            var sops = source.SopUids.ToHashSet(StringComparer.Ordinal);
            var referencedSeries = ds.GetSequence(DicomTags.ReferencedSeriesSequence).Items.Single();
            Assert.Equal(source.SeriesUid, referencedSeries.GetString(DicomTags.SeriesInstanceUID));
            var referenced = referencedSeries.GetSequence(DicomTags.ReferencedInstanceSequence).Items.Select(i => i.GetString(DicomTags.ReferencedSOPInstanceUID)).ToList();
            Assert.All(referenced, uid => Assert.Contains(uid, sops));
            int frames = ds.Get<int>(DicomTags.NumberOfFrames);
            var perFrame = ds.GetSequence(DicomTags.PerFrameFunctionalGroupsSequence).Items;
            Assert.Equal(frames, perFrame.Count);
            for (int f = 0; f < frames; f++)
            {
                var derivation = FunctionalGroups.GetFrameMacro(ds, f, DicomTags.DerivationImageSequence)!;
                var sourceImage = derivation.GetSequence(DicomTags.SourceImageSequence).Items.Single();
                Assert.Contains(sourceImage.GetString(DicomTags.ReferencedSOPInstanceUID), sops);
                Assert.Equal(TestInstances.CTImageStorage, sourceImage.GetString(DicomTags.ReferencedSOPClassUID));
                var position = FunctionalGroups.GetFrameMacro(ds, f, DicomTags.PlanePositionSequence)!.GetValues<double>(DicomTags.ImagePositionPatient);
                int z = Array.IndexOf(source.SopUids, sourceImage.GetString(DicomTags.ReferencedSOPInstanceUID));
                Assert.Equal(-40 + z * source.SliceSpacing, position[2], 6);
            }

            // The mask, voxel by voxel, against the one computed here from the phantom's HU values.
            var expected = source.ExpectedMask(-150, 150);
            var geometry = SourceGeometry.FromInstances(AlgorithmImages.ReadSeries(Path.Combine(work.Input, "series", source.SeriesUid)));
            Assert.Equal(source.SopUids, geometry.Slices.Select(s => s.GetString(DicomTags.SOPInstanceUID)));
            var mask = DicomSegmentation.Read(seg, geometry).Masks[1];
            long expectedCount = expected.Count(v => v == 1);
            Assert.InRange(expectedCount, 100, expected.Length / 2); // the phantom has something to find, and not everything
            Assert.Contains(-150, source.Hu); // voxels exactly on both bounds: the range must be inclusive
            Assert.Contains(150, source.Hu);
            Assert.Equal(expectedCount, mask.Count(v => v == 1));
            Assert.True(expected.AsSpan().SequenceEqual(mask), $"series {source.SeriesUid}: the SEG differs from the expected mask");
            Assert.Equal(Enumerable.Range(0, source.Slices).Count(z => expected.AsSpan(z * source.SliceLength, source.SliceLength).Contains((byte)1)), frames);
            Assert.Contains($"{source.SeriesUid}: {expectedCount} voxels", stdout);
        }
    }

    [Fact]
    public async Task Derived_uids_repeat_for_the_same_run_and_parameters_and_change_with_either()
    {
        var phantom = CtPhantomInput.ThreeSeries().Take(1).ToList();
        async Task<(string Series, string Sop)> RunAsync(long runId, double lower)
        {
            using var work = new WorkFolder();
            CtPhantomInput.Stage(work.Input, phantom, new JsonObject { ["lower"] = lower, ["upper"] = 200 }, runId);
            var result = await AlgorithmImages.RunAsync(engine, work, AlgorithmImages.ThresholdSeg);
            Assert.True(result.Outcome == ContainerOutcome.Succeeded, result.Logs.Text());
            var ds = DicomFile.Open(Path.Combine(work.Output, phantom[0].SeriesUid, "seg.dcm")).Dataset;
            return (ds.GetString(DicomTags.SeriesInstanceUID), ds.GetString(DicomTags.SOPInstanceUID));
        }

        var first = await RunAsync(7, -200);
        var again = await RunAsync(7, -200);
        var otherRun = await RunAsync(8, -200);
        var otherParameters = await RunAsync(7, -100);

        Assert.Equal(first, again);
        Assert.NotEqual(first.Series, otherRun.Series);
        Assert.NotEqual(first.Sop, otherRun.Sop);
        Assert.NotEqual(first.Series, otherParameters.Series);
        Assert.NotEqual(first.Series, first.Sop);
    }

    [Fact]
    public async Task Parameters_come_from_environment_variables_without_params_json()
    {
        using var work = new WorkFolder();
        var phantom = CtPhantomInput.ThreeSeries().Skip(2).ToList();
        CtPhantomInput.Stage(work.Input, phantom, []);
        File.Delete(Path.Combine(work.Input, "params.json"));

        var result = await AlgorithmImages.RunAsync(engine, work, AlgorithmImages.ThresholdSeg,
            new Dictionary<string, string> { ["KAAPANA_PARAM_LOWER"] = "350", ["KAAPANA_PARAM_UPPER"] = "1000", ["KAAPANA_PARAM_LABEL"] = "Bone" });

        Assert.True(result.Outcome == ContainerOutcome.Succeeded, result.Logs.Text());
        var seg = DicomFile.Open(Path.Combine(work.Output, phantom[0].SeriesUid, "seg.dcm"));
        var geometry = SourceGeometry.FromInstances(AlgorithmImages.ReadSeries(Path.Combine(work.Input, "series", phantom[0].SeriesUid)));
        var mask = DicomSegmentation.Read(seg, geometry).Masks[1];
        Assert.Equal(phantom[0].ExpectedMask(350, 1000), mask);
        Assert.Equal("Bone", seg.Dataset.GetSequence(DicomTags.SegmentSequence).Items[0].GetString(DicomTags.SegmentLabel));
    }

    [Fact]
    public async Task A_range_with_no_voxels_writes_no_seg_and_says_so()
    {
        using var work = new WorkFolder();
        var phantom = CtPhantomInput.ThreeSeries().Take(1).ToList();
        CtPhantomInput.Stage(work.Input, phantom, new JsonObject { ["lower"] = 2000, ["upper"] = 3000 });

        var result = await AlgorithmImages.RunAsync(engine, work, AlgorithmImages.ThresholdSeg);

        Assert.True(result.Outcome == ContainerOutcome.Succeeded, result.Logs.Text());
        Assert.Contains("no voxel within [2000, 3000] HU; no segmentation written", result.Logs.Text(ContainerLogStream.Stdout));
        Assert.Empty(Directory.EnumerateFiles(work.Output, "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("not-dicom", "is not a readable DICOM file")]
    [InlineData("lower-above-upper", "parameter 'lower' (300) is above 'upper' (100)")]
    [InlineData("text-parameter", "parameter 'lower' must be a number, not 'low'")]
    [InlineData("bad-params-json", "params.json is not valid JSON")]
    [InlineData("empty", "holds no series folders")]
    public async Task Bad_input_fails_with_exit_code_2_and_a_clear_message_on_stderr(string problem, string message)
    {
        using var work = new WorkFolder();
        var phantom = CtPhantomInput.ThreeSeries().Take(1).ToList();
        var parameters = problem switch
        {
            "lower-above-upper" => new JsonObject { ["lower"] = 300, ["upper"] = 100 },
            "text-parameter" => new JsonObject { ["lower"] = "low" },
            _ => [],
        };
        if (problem != "empty") CtPhantomInput.Stage(work.Input, phantom, parameters);
        if (problem == "not-dicom") File.WriteAllText(Path.Combine(work.Input, "series", phantom[0].SeriesUid, "zz-notes.dcm"), "not DICOM at all");
        if (problem == "bad-params-json") File.WriteAllText(Path.Combine(work.Input, "params.json"), "{\"lower\": ");

        var result = await AlgorithmImages.RunAsync(engine, work, AlgorithmImages.ThresholdSeg);

        Assert.Equal(ContainerOutcome.Failed, result.Outcome);
        Assert.Equal(2, result.ExitCode);
        var stderr = result.Logs.Text(ContainerLogStream.Stderr);
        Assert.StartsWith("threshold-seg: error: ", stderr);
        Assert.Contains(message, stderr);
        Assert.Empty(Directory.EnumerateFiles(work.Output, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Image_carries_a_manifest_the_engine_accepts()
    {
        using var runner = engine.NewRunner();
        var image = await AlgorithmImages.RequireAsync(runner, engine, AlgorithmImages.ThresholdSeg);

        var parsed = ManifestParser.Parse(image.AlgorithmManifestJson ?? "");

        Assert.True(parsed.IsValid, string.Join("; ", parsed.Errors));
        var manifest = parsed.Manifest!;
        Assert.Equal("threshold-seg", manifest.Name);
        Assert.Equal(InputScope.Series, manifest.Input.Scope);
        Assert.Equal([OutputKind.Dicom], manifest.Outputs);
        Assert.False(manifest.Network);
        Assert.Equal(["lower", "upper", "label"], manifest.Parameters.Select(p => p.Name));
        Assert.Equal(-200, manifest.Parameters[0].Default!.Value.GetDouble());
        Assert.Equal(200, manifest.Parameters[1].Default!.Value.GetDouble());
    }
}
