using System.Diagnostics;
using Kaapana.Core.Archive.Ingest;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive;

/// <summary>A small tmpfs as the data folder (mounted by the test; needs root, as the test script runs).</summary>
public class DiskFullTests
{
    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit(30_000);
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {p.StandardError.ReadToEnd()} (the disk-full test mounts a tmpfs and needs root)");
    }

    [Fact]
    public async Task A_full_disk_fails_the_ingest_cleanly_and_ingest_resumes_when_space_returns()
    {
        var mount = Directory.CreateTempSubdirectory("kaapana-tmpfs-").FullName;
        Run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount);
        try
        {
            var dataDir = Path.Combine(mount, "data");
            Directory.CreateDirectory(dataDir);
            await using var host = await ArchiveTestHost.StartAsync(dataDir);
            Assert.Equal(IngestStatus.Stored, (await host.IngestAsync(TestInstances.Single(out _))).Status);

            // Fill the file system.
            var filler = Path.Combine(mount, "filler");
            using (var fs = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                foreach (var blockSize in new[] { 64 * 1024, 4096, 512 })
                {
                    var block = new byte[blockSize];
                    try
                    {
                        while (true) fs.Write(block);
                    }
                    catch (IOException)
                    {
                        // full at this block size; try smaller ones
                    }
                }
            }

            var big = TestInstances.Single(out var bigSop, size: 256); // ~130 KB
            var result = await host.IngestAsync(big);
            Assert.Equal(IngestStatus.Failed, result.Status);
            Assert.Equal(IngestFailure.OutOfResources, result.Failure);
            Assert.Empty(host.StagingFiles());
            Assert.Single(host.InstanceFiles());
            await using (var db = host.CreateDb())
                Assert.Equal(1, await db.Instances.CountAsync());

            // Space returns: the same instance now goes in.
            File.Delete(filler);
            var retry = await host.IngestAsync(big);
            Assert.Equal(IngestStatus.Stored, retry.Status);
            Assert.Equal(bigSop, retry.SopInstanceUid);
            await using (var db = host.CreateDb())
                Assert.Equal(2, await db.Instances.CountAsync());
            Assert.True((await host.Maintenance.CheckConsistencyAsync()).IsConsistent);
        }
        finally
        {
            Run("umount", "-l", mount);
            Directory.Delete(mount, recursive: true);
        }
    }
}
