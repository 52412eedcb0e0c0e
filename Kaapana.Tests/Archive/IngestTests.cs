using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Conformance;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive;

public class IngestTests
{
    [Fact]
    public async Task Pydicom_samples_are_stored_byte_identical_and_indexed_with_their_attributes()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var expected = new Dictionary<string, (string Name, DicomFile File, string Path)>(StringComparer.Ordinal); // by SOP Instance UID, first one wins
        var problems = new List<string>();
        int stored = 0, duplicates = 0, rejected = 0;
        foreach (var sample in SampleFiles.All)
        {
            var result = await host.IngestFileAsync(sample.FullPath);
            var file = sample.File;
            var (record, _) = file is null ? (null, null) : IndexAttributes.Extract(file);
            switch (result.Status)
            {
                case IngestStatus.Stored:
                    stored++;
                    if (record is null) problems.Add($"{sample.Name}: stored but our reader cannot index it");
                    else if (!expected.TryAdd(record.SOPInstanceUID, (sample.Name, file!, sample.FullPath))) problems.Add($"{sample.Name}: stored twice");
                    break;
                case IngestStatus.Duplicate:
                    duplicates++;
                    if (record is null || !expected.ContainsKey(record.SOPInstanceUID)) problems.Add($"{sample.Name}: duplicate of nothing");
                    break;
                case IngestStatus.Rejected:
                    rejected++;
                    if (record is not null) problems.Add($"{sample.Name}: rejected ({result.Reason}) though it parses with all key UIDs");
                    Assert.False(string.IsNullOrWhiteSpace(result.Reason));
                    break;
                default:
                    problems.Add($"{sample.Name}: {result.Status} {result.Failure} {result.Reason}");
                    break;
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(stored >= 100, $"only {stored} stored ({duplicates} duplicates, {rejected} rejected)");
        // The broken and non-DICOM samples are among the rejected.
        Assert.True(rejected >= SampleFiles.Broken.Count, $"{rejected} rejected");
        Assert.Empty(host.StagingFiles());

        await using var db = host.CreateDb();
        var rows = await db.Instances.AsNoTracking().Include(i => i.Series).ThenInclude(s => s.Study).ThenInclude(s => s.Patient).ToListAsync();
        Assert.Equal(expected.Count, rows.Count);
        Assert.Equal(expected.Count, host.InstanceFiles().Count);
        foreach (var row in rows)
        {
            var (name, file, path) = expected[row.SOPInstanceUID];
            var ds = file.Dataset;
            Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(File.ReadAllBytes(host.PathOf(row.StoragePath))), $"{name}: stored file differs from input");
            Assert.Equal(new FileInfo(path).Length, row.FileSize);
            Assert.Equal(ds.GetString(DicomTags.SeriesInstanceUID).Trim(), row.Series.SeriesInstanceUID);
            Assert.Equal(ds.GetString(DicomTags.StudyInstanceUID).Trim(), row.Series.Study.StudyInstanceUID);
            Assert.Equal(ds.GetString(DicomTags.PatientID).Trim(), row.Series.Study.Patient.PatientID);
            Assert.Equal(file.TransferSyntax.Uid, row.TransferSyntaxUID);
            Assert.Equal(NullIfEmpty(ds.GetString(DicomTags.Modality)), row.Series.Modality);
            Assert.Equal(ds.TryGet<int>(DicomTags.Rows, out var r) ? r : null, row.Rows);
        }
        var ct = rows.Single(r => expected[r.SOPInstanceUID].Name == "test_files/CT_small.dcm");
        Assert.Equal("CompressedSamples^CT1", ct.Series.Study.Patient.PatientName);
        Assert.Equal("COMPRESSEDSAMPLES CT1", ct.Series.Study.Patient.PatientNameSearch);
        Assert.Equal("CT", ct.Series.Modality);
        Assert.Equal(128, ct.Rows);
        Assert.Equal(IngestSource.Unknown, ct.Source);

        // Counts on the upper levels agree with the instances.
        foreach (var series in await db.Series.AsNoTracking().Include(s => s.Instances).ToListAsync())
        {
            Assert.Equal(series.Instances.Count, series.NumberOfInstances);
            Assert.Equal(series.Instances.Sum(i => i.FileSize), series.TotalSize);
        }
        foreach (var study in await db.Studies.AsNoTracking().Include(s => s.Series).ToListAsync())
        {
            Assert.Equal(study.Series.Count, study.NumberOfSeries);
            Assert.Equal(study.Series.Sum(s => s.NumberOfInstances), study.NumberOfInstances);
        }
    }

    private static string? NullIfEmpty(string s) => s.Trim().Length == 0 ? null : s.Trim();

    [Fact]
    public async Task Generated_multi_patient_set_is_indexed_exactly_with_counts_and_queryable_series_attributes()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var inputs = new Dictionary<string, byte[]>();
        var patients = new[] { ("PAT-1", "Müller^Hans"), ("PAT-2", "Smith^Anne^B"), ("PAT-3", "Çelik^Ayşe") };
        foreach (var (pid, name) in patients)
            for (int st = 0; st < 2; st++)
            {
                var study = TestInstances.NewUid();
                for (int se = 0; se < 2; se++)
                {
                    var series = TestInstances.NewUid();
                    var modality = se == 0 ? "CT" : "MR";
                    for (int i = 1; i <= 5; i++)
                    {
                        var sop = TestInstances.NewUid();
                        inputs[sop] = TestInstances.Create(new TestInstances.Spec(pid, name, study, series, sop, modality, i, SeriesNumber: se + 1,
                            Extra: $"{pid} protocol {se}"));
                    }
                }
            }
        foreach (var (sop, bytes) in inputs)
        {
            var result = await host.IngestAsync(bytes, new IngestContext { Source = IngestSource.Upload, UploadUser = "alice" });
            Assert.Equal(IngestStatus.Stored, result.Status);
            Assert.Equal(sop, result.SopInstanceUid);
        }

        await using var db = host.CreateDb();
        Assert.Equal(3, await db.Patients.CountAsync());
        Assert.Equal(6, await db.Studies.CountAsync());
        Assert.Equal(12, await db.Series.CountAsync());
        Assert.Equal(60, await db.Instances.CountAsync());
        foreach (var row in await db.Instances.AsNoTracking().ToListAsync())
        {
            Assert.Equal(inputs[row.SOPInstanceUID], File.ReadAllBytes(host.PathOf(row.StoragePath)));
            Assert.Equal("alice", row.UploadUser);
            Assert.Equal(IngestSource.Upload, row.Source);
            Assert.Equal(16, row.Rows);
            Assert.Equal(32, row.ContentHash.Length); // XXH128
        }
        foreach (var study in await db.Studies.AsNoTracking().ToListAsync())
        {
            Assert.Equal(2, study.NumberOfSeries);
            Assert.Equal(10, study.NumberOfInstances);
            Assert.Equal("CT\\MR", study.ModalitiesInStudy);
            Assert.Equal("20240115", study.StudyDate);
            Assert.Equal("Doe^Jane", study.ReferringPhysicianName);
        }
        var muller = await db.Patients.AsNoTracking().SingleAsync(p => p.PatientID == "PAT-1");
        Assert.Equal("Müller^Hans", muller.PatientName);
        Assert.Equal(2, muller.NumberOfStudies);
        Assert.Equal(4, muller.NumberOfSeries);
        Assert.Equal(20, muller.NumberOfInstances);
        Assert.Equal("PAT-1", (await db.Patients.SingleAsync(p => p.PatientNameSearch!.StartsWith("MULLER"))).PatientID);
        Assert.Equal("PAT-3", (await db.Patients.SingleAsync(p => p.PatientNameSearch == "CELIK AYSE")).PatientID);

        // Attributes without columns of their own, queried by keyword.
        int protocol = IndexAttributes.TagKey(DicomTag.Parse("ProtocolName"));
        var seriesOfPat2 = await db.SeriesAttributes.Where(a => a.Tag == protocol && a.Value == "PAT-2 protocol 1")
            .Select(a => a.SeriesId).ToListAsync();
        Assert.Equal(2, seriesOfPat2.Count);
        Assert.All(await db.Series.Where(s => seriesOfPat2.Contains(s.Id)).ToListAsync(), s => Assert.Equal("MR", s.Modality));
        int thickness = IndexAttributes.TagKey(DicomTags.SliceThickness);
        Assert.Equal(12, await db.SeriesAttributes.CountAsync(a => a.Tag == thickness && a.Value == "1.5"));
        // Column attributes are not repeated; bulk data and meta information are not indexed.
        Assert.Equal(0, await db.SeriesAttributes.CountAsync(a => a.Tag == IndexAttributes.TagKey(DicomTags.Modality)));
        Assert.Equal(0, await db.SeriesAttributes.CountAsync(a => a.Tag == IndexAttributes.TagKey(DicomTags.PixelData)));
    }

    [Fact]
    public async Task A_bare_data_set_gets_a_Part10_header_and_hashes_like_the_same_instance_as_a_file()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var sop = TestInstances.NewUid();
        var ds = TestInstances.CreateDataset(new TestInstances.Spec("P-BARE", "Bare^Data", TestInstances.NewUid(), TestInstances.NewUid(), sop));
        using var bare = new MemoryStream();
        DicomWriter.WriteDataset(bare, ds, DicomTransferSyntax.ImplicitVRLittleEndian);
        bare.Position = 0;
        var context = new IngestContext
        {
            Source = IngestSource.Dimse, CallingAE = "MODALITY", CalledAE = "KAAPANA", PeerAddress = "127.0.0.1:4242",
            DatasetEncoding = new DatasetEncoding(DicomTransferSyntax.ImplicitVRLittleEndian, TestInstances.CTImageStorage, sop, "MODALITY"),
        };
        var result = await host.Ingest.IngestAsync(bare, context);
        Assert.Equal(IngestStatus.Stored, result.Status);

        await using var db = host.CreateDb();
        var row = await db.Instances.SingleAsync();
        Assert.Equal("MODALITY", row.CallingAE);
        Assert.Equal("KAAPANA", row.CalledAE);
        Assert.Equal("127.0.0.1:4242", row.PeerAddress);
        Assert.Equal(IngestSource.Dimse, row.Source);
        var stored = DicomFile.Open(host.PathOf(row.StoragePath));
        Assert.Equal(DicomTransferSyntax.ImplicitVRLittleEndian.Uid, stored.TransferSyntax.Uid);
        Assert.Equal(sop, stored.FileMetaInfo.GetString(DicomTags.MediaStorageSOPInstanceUID));
        Assert.Equal("MODALITY", stored.FileMetaInfo.GetString(DicomTags.SourceApplicationEntityTitle));
        Assert.Equal(bare.ToArray(), File.ReadAllBytes(host.PathOf(row.StoragePath))[(int)(row.FileSize - bare.Length)..]);

        // The same instance as a Part 10 file with other meta information (another implementation, no source AE) is the same content.
        var asFile = TestInstances.ToBytes(ds, DicomTransferSyntax.ImplicitVRLittleEndian);
        var again = await host.IngestAsync(asFile);
        Assert.Equal(IngestStatus.Duplicate, again.Status);
        Assert.False(again.ContentDiffers);
        Assert.Equal(result.ContentHash, again.ContentHash);
    }
}
