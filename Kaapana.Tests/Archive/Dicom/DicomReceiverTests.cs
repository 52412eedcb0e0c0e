using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive.Dicom;

/// <summary>One server (own data folder, endpoint LUNG_STUDY -> project "lung") shared by the receiver tests.</summary>
public sealed class ReceiverServerFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("kaapana-dicom-").FullName;
    public KaapanaServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var data = Directory.CreateDirectory(Path.Combine(Root, "data")).FullName;
        Server = await KaapanaServer.StartAsync(data, new Dictionary<string, string>
        {
            ["Kaapana__Archive__ReceivingEndpoints__0__AETitle"] = "LUNG_STUDY",
            ["Kaapana__Archive__ReceivingEndpoints__0__Project"] = "lung",
        });
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class DicomReceiverTests(ReceiverServerFixture fixture) : IClassFixture<ReceiverServerFixture>
{
    private const string PydicomFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
    private KaapanaServer Server => fixture.Server;

    private sealed record Expected(string File, string PatientID, string StudyUid, string SeriesUid, string SopUid);

    private static Expected Describe(string file)
    {
        var ds = DicomFile.Open(file, new DicomReadOptions { StopBeforePixelData = true }).Dataset;
        return new Expected(file, ds.GetString(DicomTags.PatientID).Trim(), ds.GetString(DicomTags.StudyInstanceUID),
            ds.GetString(DicomTags.SeriesInstanceUID), ds.GetString(DicomTags.SOPInstanceUID));
    }

    /// <summary>patients x studies x series x instances generated files, named by SOP Instance UID.</summary>
    internal static List<string> Generate(string folder, int patients, int studies, int series, int instances, int size = 16, string namePrefix = "Patient^")
    {
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        for (int p = 0; p < patients; p++)
        {
            var pid = "PID-" + TestInstances.NewUid()[^8..];
            for (int st = 0; st < studies; st++)
            {
                var study = TestInstances.NewUid();
                for (int se = 0; se < series; se++)
                {
                    var ser = TestInstances.NewUid();
                    for (int i = 0; i < instances; i++)
                    {
                        var sop = TestInstances.NewUid();
                        var path = Path.Combine(folder, sop + ".dcm");
                        File.WriteAllBytes(path, TestInstances.Create(new TestInstances.Spec(pid, $"{namePrefix}{p}", study, ser, sop,
                            Modality: se % 2 == 0 ? "CT" : "MR", InstanceNumber: i + 1, Size: size, SeriesNumber: se + 1,
                            StudyDate: $"2024010{st + 1}")));
                        files.Add(path);
                    }
                }
            }
        }
        return files;
    }

    private static async Task<List<(string Sop, string Series, string Study, string Patient, string Path, string? Calling, string? Called, IngestSource Source)>>
        InstancesInProjectAsync(KaapanaDbContext db, string project)
    {
        var projectId = await db.Projects.Where(p => p.Name == project).Select(p => p.Id).SingleAsync();
        var rows = await db.Instances.AsNoTracking()
            .Where(i => db.ProjectSeries.Any(ps => ps.ProjectId == projectId && ps.SeriesId == i.SeriesId))
            .Select(i => new { i.SOPInstanceUID, i.Series.SeriesInstanceUID, i.Series.Study.StudyInstanceUID, i.Series.Study.Patient.PatientID, i.StoragePath, i.CallingAE, i.CalledAE, i.Source })
            .ToListAsync();
        return rows.Select(r => (r.SOPInstanceUID, r.SeriesInstanceUID, r.StudyInstanceUID, r.PatientID, r.StoragePath, r.CallingAE, r.CalledAE, r.Source)).ToList();
    }

    [Fact]
    public async Task Storescu_pushes_generated_and_sample_files_into_the_index_and_archive_unchanged()
    {
        var folder = Path.Combine(fixture.Root, "push-default");
        var generated = Generate(folder, patients: 3, studies: 2, series: 2, instances: 3);
        // Sample files with distinct SOP Instance UIDs that storescu sends (it proposes no context for e.g. SEG); compressed ones need its flag for their syntax.
        string[] plain = ["CT_small.dcm", "rtplan.dcm", "rtdose.dcm", "test-SR.dcm", "waveform_ecg.dcm"];
        (string File, string Flag)[] compressed = [("MR_small_RLE.dcm", "-xr"), ("JPEG2000.dcm", "-xw"), ("SC_rgb_jpeg_dcmtk.dcm", "-xy")];
        foreach (var f in plain.Concat(compressed.Select(c => c.File)))
            Assert.True(File.Exists(Path.Combine(PydicomFiles, f)), $"{f} missing: install the Debian package 'python3-pydicom'.");

        var port = Server.DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var r = await DicomTools.RunAsync("storescu", ["-v", "-aet", "MODALITY1", "-aec", "KAAPANA", "+sd", "127.0.0.1", port, folder]);
        Assert.True(r.ExitCode == 0 && !r.Output.Contains("E: "), $"storescu (generated): {r}\n{Server.Output}");
        Assert.Equal(generated.Count, CountSuccess(r.Output));
        r = await DicomTools.RunAsync("storescu", ["-v", "-aet", "MODALITY1", "-aec", "KAAPANA", "127.0.0.1", port, .. plain.Select(f => Path.Combine(PydicomFiles, f))]);
        Assert.True(r.ExitCode == 0 && CountSuccess(r.Output) == plain.Length, $"storescu (samples): {r}");
        foreach (var (file, flag) in compressed)
        {
            r = await DicomTools.RunAsync("storescu", ["-v", flag, "-aet", "MODALITY1", "-aec", "KAAPANA", "127.0.0.1", port, Path.Combine(PydicomFiles, file)]);
            Assert.True(r.ExitCode == 0 && CountSuccess(r.Output) == 1, $"storescu {flag} {file}: {r}");
        }

        var expected = generated.Concat(plain.Concat(compressed.Select(c => c.File)).Select(f => Path.Combine(PydicomFiles, f))).Select(Describe).ToList();
        await using var db = Server.OpenIndex();
        var rows = await InstancesInProjectAsync(db, "default");
        Assert.Equal(expected.Select(e => e.SopUid).Order(), rows.Select(x => x.Sop).Order());
        Assert.Equal(expected.Select(e => e.SeriesUid).Distinct().Order(), rows.Select(x => x.Series).Distinct().Order());
        Assert.Equal(expected.Select(e => e.StudyUid).Distinct().Order(), rows.Select(x => x.Study).Distinct().Order());
        Assert.Equal(expected.Select(e => e.PatientID).Distinct().Order(), rows.Select(x => x.Patient).Distinct().Order());
        // Nothing else in the index but what the other tests of this class put into "lung".
        Assert.Equal(await db.Instances.CountAsync(), rows.Count + (await InstancesInProjectAsync(db, "lung")).Count);

        var bySop = rows.ToDictionary(x => x.Sop);
        foreach (var e in expected)
        {
            var row = bySop[e.SopUid];
            Assert.Equal(("MODALITY1", "KAAPANA", IngestSource.Dimse), (row.Calling, row.Called, row.Source));
            Assert.Equal(e.SeriesUid, row.Series);
            var stored = Path.Combine(Server.ArchiveDir, row.Path);
            Assert.True(File.Exists(stored), stored);
            Assert.Equal(await DicomTools.DumpDatasetAsync(e.File), await DicomTools.DumpDatasetAsync(stored));
        }
    }

    /// <summary>
    /// Large instances sent in 4 KB PDUs (many small fragments, gathered before they are written) and in storescu's usual
    /// 256 KB ones (written straight from the PDU buffers) are stored byte for byte.
    /// </summary>
    [Theory]
    [InlineData("4096")]
    [InlineData(null)]
    public async Task Large_instances_are_stored_byte_for_byte_whatever_the_senders_pdu_size(string? maxSendPdu)
    {
        var folder = Path.Combine(fixture.Root, "push-pdu-" + (maxSendPdu ?? "default"));
        var files = Generate(folder, patients: 1, studies: 1, series: 1, instances: 3, size: 400); // 320 KB of pixels each
        var port = Server.DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] pdu = maxSendPdu is null ? [] : ["--max-send-pdu", maxSendPdu];
        var r = await DicomTools.RunAsync("storescu", ["-v", .. pdu, "-aec", "KAAPANA", "+sd", "127.0.0.1", port, folder]);
        Assert.True(r.ExitCode == 0 && CountSuccess(r.Output) == files.Count, $"storescu: {r}");
        await using var db = Server.OpenIndex();
        foreach (var file in files)
        {
            var sop = Describe(file).SopUid;
            var path = await db.Instances.Where(i => i.SOPInstanceUID == sop).Select(i => i.StoragePath).SingleAsync();
            Assert.Equal(DatasetBytes(file), DatasetBytes(Path.Combine(Server.ArchiveDir, path)));
        }
    }

    private static byte[] DatasetBytes(string path)
    {
        using var fs = File.OpenRead(path);
        Assert.NotNull(DicomFileMeta.TryReadHeaderAsync(fs, CancellationToken.None).GetAwaiter().GetResult());
        var ms = new MemoryStream();
        fs.CopyTo(ms);
        return ms.ToArray();
    }

    [Fact]
    public async Task Called_AE_of_a_receiving_endpoint_files_into_its_project()
    {
        var folder = Path.Combine(fixture.Root, "push-lung");
        var files = Generate(folder, patients: 1, studies: 1, series: 2, instances: 2);
        var r = await DicomTools.RunAsync("storescu", ["-v", "-aec", "LUNG_STUDY", "+sd", "127.0.0.1",
            Server.DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture), folder]);
        Assert.True(r.ExitCode == 0 && CountSuccess(r.Output) == files.Count, $"storescu: {r}");

        await using var db = Server.OpenIndex();
        var lung = await InstancesInProjectAsync(db, "lung");
        var sent = files.Select(f => Path.GetFileNameWithoutExtension(f)).ToHashSet();
        Assert.Equal(sent.Order(), lung.Where(x => sent.Contains(x.Sop)).Select(x => x.Sop).Order());
        Assert.All(lung.Where(x => sent.Contains(x.Sop)), x => Assert.Equal("LUNG_STUDY", x.Called));
        Assert.DoesNotContain((await InstancesInProjectAsync(db, "default")), x => sent.Contains(x.Sop));
    }

    [Fact]
    public async Task Unknown_called_AE_is_rejected_at_association()
    {
        var folder = Path.Combine(fixture.Root, "push-unknown");
        var files = Generate(folder, 1, 1, 1, 1);
        var r = await DicomTools.RunAsync("storescu", ["-v", "-aec", "NOBODY", "127.0.0.1",
            Server.DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture), files[0]]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Called AE Title Not Recognized", r.Output, StringComparison.OrdinalIgnoreCase);
        await using var db = Server.OpenIndex();
        var sop = Path.GetFileNameWithoutExtension(files[0]);
        Assert.False(await db.Instances.AnyAsync(i => i.SOPInstanceUID == sop));
    }

    [Fact]
    public async Task Unindexable_instance_is_refused_with_C000_and_a_reason_and_a_resent_one_is_a_success()
    {
        var folder = Directory.CreateDirectory(Path.Combine(fixture.Root, "push-bad")).FullName;
        var sop = TestInstances.NewUid();
        var ds = TestInstances.CreateDataset(new TestInstances.Spec("PID-BAD", "Bad^Data", TestInstances.NewUid(), TestInstances.NewUid(), sop));
        ds.Remove(DicomTags.SeriesInstanceUID);
        var bad = Path.Combine(folder, "bad.dcm");
        File.WriteAllBytes(bad, TestInstances.ToBytes(ds));
        var port = Server.DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var r = await DicomTools.RunAsync("storescu", "-d", "-aec", "KAAPANA", "127.0.0.1", port, bad);
        Assert.Equal(0, CountSuccess(r.Output));
        Assert.Contains("0xc000", r.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Series Instance UID", r.Output, StringComparison.Ordinal); // the Error Comment
        await using (var db = Server.OpenIndex())
            Assert.False(await db.Instances.AnyAsync(i => i.SOPInstanceUID == sop));

        // The same instance twice: the second is a duplicate, answered with success, indexed once. (Sent to LUNG_STUDY:
        // the first test of this class expects "default" to hold exactly what it sent, whatever order the tests run in.)
        var good = Generate(Path.Combine(fixture.Root, "push-twice"), 1, 1, 1, 1)[0];
        for (int n = 0; n < 2; n++)
        {
            r = await DicomTools.RunAsync("storescu", "-v", "-aec", "LUNG_STUDY", "127.0.0.1", port, good);
            Assert.True(r.ExitCode == 0 && CountSuccess(r.Output) == 1, $"storescu #{n + 1}: {r}");
        }
        var goodSop = Path.GetFileNameWithoutExtension(good);
        await using (var db = Server.OpenIndex())
            Assert.Equal(1, await db.Instances.CountAsync(i => i.SOPInstanceUID == goodSop));
    }

    [Theory]
    [InlineData(IngestStatus.Stored, IngestFailure.None, null, 0x0000)]
    [InlineData(IngestStatus.Duplicate, IngestFailure.None, null, 0x0000)]
    [InlineData(IngestStatus.Stored, IngestFailure.None, "1.2.840.10008.5.1.4.1.1.4", 0xB007)]
    [InlineData(IngestStatus.Rejected, IngestFailure.None, null, 0xC000)]
    [InlineData(IngestStatus.Rejected, IngestFailure.None, "1.2.840.10008.5.1.4.1.1.4", 0xA900)]
    [InlineData(IngestStatus.Failed, IngestFailure.OutOfResources, null, 0xA700)]
    [InlineData(IngestStatus.Failed, IngestFailure.Internal, null, 0x0110)]
    public void Ingest_results_map_to_C_STORE_statuses(IngestStatus status, IngestFailure failure, string? datasetSopClass, int expected)
    {
        var result = new Kaapana.Core.Archive.Ingest.IngestResult
        {
            Status = status, Failure = failure, SopClassUid = datasetSopClass ?? TestInstances.CTImageStorage, Reason = status is IngestStatus.Rejected or IngestStatus.Failed ? "why" : null,
        };
        var code = Kaapana.Core.Archive.Dicom.ArchiveStoreHandler.ToStatus(TestInstances.CTImageStorage, result, out var comment);
        Assert.Equal(expected, code.Code);
        if (!code.IsSuccess) Assert.False(string.IsNullOrEmpty(comment));
        else Assert.Null(comment);
    }

    internal static int CountSuccess(string storescuOutput) =>
        storescuOutput.Split('\n').Count(l => l.Contains("Received Store Response (Success)", StringComparison.Ordinal));
}
