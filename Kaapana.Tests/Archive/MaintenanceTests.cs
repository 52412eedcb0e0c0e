using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Storage;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive;

public class MaintenanceTests
{
    private static async Task<List<string>> IngestSetAsync(ArchiveTestHost host, int patients = 2, int seriesPerStudy = 2, int instances = 4)
    {
        var sops = new List<string>();
        for (int p = 0; p < patients; p++)
        {
            var study = TestInstances.NewUid();
            for (int s = 0; s < seriesPerStudy; s++)
            {
                var series = TestInstances.NewUid();
                for (int i = 1; i <= instances; i++)
                {
                    var sop = TestInstances.NewUid();
                    var bytes = TestInstances.Create(new TestInstances.Spec($"PAT-{p}", $"Patient^{p}", study, series, sop, s == 0 ? "CT" : "MR", i, SeriesNumber: s + 1));
                    Assert.Equal(IngestStatus.Stored, (await host.IngestAsync(bytes)).Status);
                    sops.Add(sop);
                }
            }
        }
        return sops;
    }

    /// <summary>Everything the index says about the data, without our own ids and timestamps.</summary>
    private static async Task<List<string>> SnapshotAsync(ArchiveTestHost host)
    {
        await using var db = host.CreateDb();
        var instances = await db.Instances.AsNoTracking().Include(i => i.Series).ThenInclude(s => s.Study).ThenInclude(s => s.Patient).ToListAsync();
        var lines = instances.Select(i =>
        {
            var se = i.Series;
            var st = se.Study;
            var p = st.Patient;
            return string.Join('|', p.PatientID, p.PatientName, p.PatientNameSearch, p.PatientBirthDate, p.PatientSex, p.NumberOfStudies, p.NumberOfSeries, p.NumberOfInstances,
                st.StudyInstanceUID, st.StudyDate, st.StudyTime, st.AccessionNumber, st.StudyDescription, st.ModalitiesInStudy, st.NumberOfSeries, st.NumberOfInstances, st.TotalSize,
                se.SeriesInstanceUID, se.Modality, se.SeriesNumber, se.SeriesDescription, se.BodyPartExamined, se.Manufacturer, se.NumberOfInstances, se.TotalSize,
                i.SOPInstanceUID, i.SOPClassUID, i.InstanceNumber, i.TransferSyntaxUID, i.Rows, i.Columns, i.StoragePath, i.FileSize, i.ContentHash);
        }).ToList();
        var attributes = await db.SeriesAttributes.AsNoTracking().Join(db.Series, a => a.SeriesId, s => s.Id, (a, s) => s.SeriesInstanceUID + "|" + a.Tag + "|" + a.Value).ToListAsync();
        return lines.Concat(attributes).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task Reindex_from_the_files_rebuilds_a_lost_database()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-reindex-").FullName;
        try
        {
            List<string> before;
            await using (var host = await ArchiveTestHost.StartAsync(dataDir))
            {
                await IngestSetAsync(host, patients: 3);
                before = await SnapshotAsync(host);
            }
            foreach (var f in Directory.EnumerateFiles(dataDir, "kaapana.db*")) File.Delete(f);

            await using (var host = await ArchiveTestHost.StartAsync(dataDir))
            {
                await using (var db = host.CreateDb())
                    Assert.Equal(0, await db.Instances.CountAsync());
                var report = await host.Maintenance.ReindexAsync();
                Assert.Equal(24, report.FilesScanned);
                Assert.Equal(24, report.Indexed);
                Assert.Empty(report.Unreadable);
                Assert.Equal(before, await SnapshotAsync(host));
                await using (var db = host.CreateDb())
                    Assert.All(await db.Instances.ToListAsync(), i => Assert.Equal(IngestSource.Reindex, i.Source));

                // Running it again changes nothing.
                var again = await host.Maintenance.ReindexAsync();
                Assert.Equal(0, again.Indexed);
                Assert.Equal(24, again.AlreadyIndexed);
                Assert.True((await host.Maintenance.CheckConsistencyAsync()).IsConsistent);
            }
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Consistency_check_finds_a_file_without_row_and_a_row_without_file()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var sops = await IngestSetAsync(host, patients: 1);
        var clean = await host.Maintenance.CheckConsistencyAsync();
        Assert.True(clean.IsConsistent);
        Assert.Equal(8, clean.FilesScanned);
        Assert.Equal(8, clean.RowsScanned);

        // A file nobody indexed (as a crash between rename and commit would leave) ...
        var orphanSop = TestInstances.NewUid();
        var orphanKey = ArchiveLayout.InstanceKey(TestInstances.NewUid(), TestInstances.NewUid(), orphanSop, new string('a', 64));
        Directory.CreateDirectory(Path.GetDirectoryName(host.PathOf(orphanKey))!);
        File.WriteAllBytes(host.PathOf(orphanKey), TestInstances.Single(out _));
        // ... and a row whose file is gone.
        string lostKey;
        await using (var db = host.CreateDb())
            lostKey = (await db.Instances.SingleAsync(i => i.SOPInstanceUID == sops[3])).StoragePath;
        File.Delete(host.PathOf(lostKey));

        var report = await host.Maintenance.CheckConsistencyAsync();
        Assert.False(report.IsConsistent);
        Assert.Equal([orphanKey], report.FilesWithoutRows);
        var missing = Assert.Single(report.RowsWithoutFiles);
        Assert.Equal(sops[3], missing.SOPInstanceUID);
        Assert.Equal(lostKey, missing.StoragePath);
        Assert.Empty(report.SizeMismatches);

        // Re-index picks up the orphan.
        var reindex = await host.Maintenance.ReindexAsync();
        Assert.Equal(1, reindex.Indexed);
        Assert.Empty((await host.Maintenance.CheckConsistencyAsync()).FilesWithoutRows);
    }

    [Fact]
    public async Task Sending_a_lost_instance_again_restores_its_file()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var bytes = TestInstances.Single(out var sop);
        await host.IngestAsync(bytes);
        string key;
        await using (var db = host.CreateDb())
            key = (await db.Instances.SingleAsync()).StoragePath;
        File.Delete(host.PathOf(key));
        Assert.Equal(IngestStatus.Duplicate, (await host.IngestAsync(bytes)).Status);
        Assert.Equal(bytes, File.ReadAllBytes(host.PathOf(key)));
        Assert.True((await host.Maintenance.CheckConsistencyAsync()).IsConsistent);
        _ = sop;
    }
}
