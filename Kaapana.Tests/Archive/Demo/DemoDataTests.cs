using Kaapana.Core.Archive.Demo;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Imaging;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Archive.Demo;

/// <summary>The first-run demo set: what it puts in the index, that a second load adds nothing, and that its files are valid CT (dciodvfy).</summary>
public sealed class DemoDataTests
{
    [Fact]
    public async Task Loading_the_demo_set_indexes_3_patients_6_series_144_instances_into_the_project_and_a_second_load_adds_nothing()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        await host.Projects.CreateProjectAsync("demo-target");
        var demo = host.Services.GetRequiredService<DemoDataGenerator>();
        var reports = new List<DemoDataProgress>();
        var first = await demo.LoadAsync("demo-target", new SyncProgress(reports.Add));

        Assert.Equal((144, 0, 0), (first.Stored, first.AlreadyPresent, first.Failed));
        Assert.Equal(6, first.SeriesInstanceUids.Count);
        Assert.Equal(144, reports.Count);
        Assert.Equal(new DemoDataProgress(144, 144), reports[^1]);

        async Task<(int Patients, int Studies, int Series, int Instances, int InProject)> CountsAsync()
        {
            await using var db = host.CreateDb();
            var projectId = (await host.Projects.FindProjectAsync("demo-target"))!.Id;
            return (await db.Patients.CountAsync(), await db.Studies.CountAsync(), await db.Series.CountAsync(), await db.Instances.CountAsync(),
                await db.ProjectSeries.CountAsync(l => l.ProjectId == projectId));
        }
        Assert.Equal((3, 3, 6, 144, 6), await CountsAsync());
        await using (var db = host.CreateDb())
        {
            Assert.Equal(["DEMO-001", "DEMO-002", "DEMO-003"], await db.Patients.OrderBy(p => p.PatientID).Select(p => p.PatientID).ToListAsync());
            Assert.All(await db.Series.ToListAsync(), s => Assert.Equal(("CT", "CHEST", 24), (s.Modality, s.BodyPartExamined, s.NumberOfInstances)));
        }

        var second = await demo.LoadAsync("demo-target");
        Assert.Equal((0, 144, 0), (second.Stored, second.AlreadyPresent, second.Failed));
        Assert.Equal(first.SeriesInstanceUids, second.SeriesInstanceUids);
        Assert.Equal((3, 3, 6, 144, 6), await CountsAsync());
    }

    [Fact]
    public void Generated_instances_are_valid_ct_images_with_unique_valid_uids_and_the_same_bytes_every_time()
    {
        var files = DemoDataGenerator.Generate().ToList();
        Assert.Equal(DemoDataGenerator.InstanceCount, files.Count);
        var sops = files.Select(f => f.Dataset.GetString(DicomTags.SOPInstanceUID)).ToList();
        Assert.Equal(sops.Count, sops.Distinct().Count());
        Assert.All(sops, uid => Assert.Matches(@"^2\.25\.(0|[1-9][0-9]*)$", uid));
        Assert.All(sops, uid => Assert.True(uid.Length <= 64, uid));

        static byte[] Bytes(DicomFile f)
        {
            using var ms = new MemoryStream();
            f.Save(ms);
            return ms.ToArray();
        }
        Assert.Equal(Bytes(files[30]), Bytes(DemoDataGenerator.Generate().ElementAt(30)));

        var dir = Directory.CreateTempSubdirectory("kaapana-demo-");
        try
        {
            // A slice from the middle of the lung kernel series: all shapes present.
            var path = Path.Combine(dir.FullName, "demo.dcm");
            files[DemoDataGenerator.Slices + DemoDataGenerator.Slices / 2].Save(path);
            var result = ImagingTools.Run("dciodvfy", path);
            var lines = result.Stderr.Split('\n').Concat(result.Text.Split('\n')).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            Assert.Contains(lines, l => l.Contains("CTImage", StringComparison.Ordinal));
            var errors = lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
            Assert.True(errors.Count == 0, $"dciodvfy {path}:\n{string.Join('\n', lines)}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and race the assertions).</summary>
    private sealed class SyncProgress(Action<DemoDataProgress> report) : IProgress<DemoDataProgress>
    {
        public void Report(DemoDataProgress value) => report(value);
    }
}
