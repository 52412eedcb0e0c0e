using Kaapana.Core.Archive;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Conformance;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive;

public class DuplicateAndRejectTests
{
    /// <summary>The same SOP Instance UID (same patient, study, series) with different pixel data.</summary>
    private static (byte[] First, byte[] Second, string Sop) Conflicting()
    {
        var sop = TestInstances.NewUid();
        var spec = new TestInstances.Spec("P-DUP", "Dup^Test", TestInstances.NewUid(), TestInstances.NewUid(), sop);
        var first = TestInstances.Create(spec);
        var second = TestInstances.Create(spec with { Extra = "changed protocol" });
        return (first, second, sop);
    }

    [Fact]
    public async Task Same_instance_twice_is_an_idempotent_success()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var bytes = TestInstances.Single(out _);
        Assert.Equal(IngestStatus.Stored, (await host.IngestAsync(bytes)).Status);
        var again = await host.IngestAsync(bytes);
        Assert.Equal(IngestStatus.Duplicate, again.Status);
        Assert.False(again.ContentDiffers);
        Assert.True(again.IsSuccess);
        await using var db = host.CreateDb();
        Assert.Equal(1, await db.Instances.CountAsync());
        Assert.Equal(1, (await db.Series.SingleAsync()).NumberOfInstances);
        Assert.Single(host.InstanceFiles());
        Assert.Empty(host.StagingFiles());
    }

    [Theory]
    [InlineData(DuplicatePolicy.Keep)]
    [InlineData(DuplicatePolicy.Replace)]
    [InlineData(DuplicatePolicy.Reject)]
    public async Task Different_content_under_a_stored_UID_follows_the_policy(DuplicatePolicy policy)
    {
        await using var host = await ArchiveTestHost.StartAsync(settings: new Dictionary<string, string?> { ["Kaapana:Archive:DuplicatePolicy"] = policy.ToString() });
        var (first, second, sop) = Conflicting();
        var stored = await host.IngestAsync(first);
        Assert.Equal(IngestStatus.Stored, stored.Status);
        var result = await host.IngestAsync(second);

        await using var db = host.CreateDb();
        var row = await db.Instances.Include(i => i.Series).SingleAsync();
        Assert.Equal(sop, row.SOPInstanceUID);
        Assert.Equal(1, row.Series.NumberOfInstances);
        Assert.Single(host.InstanceFiles());
        Assert.Empty(host.StagingFiles());
        var onDisk = File.ReadAllBytes(host.PathOf(row.StoragePath));
        switch (policy)
        {
            case DuplicatePolicy.Keep:
                Assert.Equal(IngestStatus.Duplicate, result.Status);
                Assert.True(result.ContentDiffers);
                Assert.Equal(first, onDisk);
                Assert.Equal(stored.ContentHash, row.ContentHash);
                break;
            case DuplicatePolicy.Replace:
                Assert.Equal(IngestStatus.Stored, result.Status);
                Assert.True(result.Replaced);
                Assert.Equal(second, onDisk);
                Assert.Equal(result.ContentHash, row.ContentHash);
                Assert.Equal(second.Length, row.Series.TotalSize);
                break;
            case DuplicatePolicy.Reject:
                Assert.Equal(IngestStatus.Rejected, result.Status);
                Assert.Contains("different content", result.Reason);
                Assert.Equal(first, onDisk);
                break;
        }
    }

    [Fact]
    public async Task The_context_can_override_the_policy()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var (first, second, _) = Conflicting();
        await host.IngestAsync(first);
        var result = await host.IngestAsync(second, new IngestContext { DuplicatePolicy = DuplicatePolicy.Replace });
        Assert.True(result.Replaced);
    }

    public static TheoryData<string, byte[]> BadInputs()
    {
        var good = TestInstances.Single(out _, size: 64);
        var noSeries = TestInstances.CreateDataset(new TestInstances.Spec("P", "N", TestInstances.NewUid(), TestInstances.NewUid(), TestInstances.NewUid()));
        noSeries.Remove(DicomTags.SeriesInstanceUID);
        var badUid = TestInstances.CreateDataset(new TestInstances.Spec("P", "N", TestInstances.NewUid(), TestInstances.NewUid(), "1.2.abc"));
        return new TheoryData<string, byte[]>
        {
            { "text", "this is not DICOM at all, just some words in a file"u8.ToArray() },
            { "empty", [] },
            { "zeros", new byte[4096] },
            { "truncated in pixel data", good[..(good.Length - 1000)] },
            { "truncated in the header", good[..300] },
            { "only the preamble", good[..132] },
            { "no Series Instance UID", TestInstances.ToBytes(noSeries) },
            { "malformed SOP Instance UID", TestInstances.ToBytes(badUid) },
            { "pydicom MR_truncated.dcm", File.ReadAllBytes(ExternalTools.FullPath("test_files/MR_truncated.dcm")) },
            { "pydicom rtplan_truncated.dcm", File.ReadAllBytes(ExternalTools.FullPath("test_files/rtplan_truncated.dcm")) },
            { "pydicom zipMR.gz", File.ReadAllBytes(ExternalTools.FullPath("test_files/zipMR.gz")) },
        };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_rejected_with_a_reason_and_leaves_no_file_and_no_row(string what, byte[] bytes)
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var result = await host.IngestAsync(bytes);
        Assert.True(result.Status == IngestStatus.Rejected, $"{what}: {result.Status} {result.Reason}");
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
        Assert.Empty(host.InstanceFiles());
        Assert.Empty(host.StagingFiles());
        await using var db = host.CreateDb();
        Assert.Equal(0, await db.Instances.CountAsync());
        Assert.Equal(0, await db.Series.CountAsync());

        // And the archive goes on working.
        Assert.Equal(IngestStatus.Stored, (await host.IngestAsync(TestInstances.Single(out _))).Status);
    }

    [Fact]
    public async Task Unknown_project_is_rejected()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var result = await host.IngestAsync(TestInstances.Single(out _), new IngestContext { Project = "nope" });
        Assert.Equal(IngestStatus.Rejected, result.Status);
        Assert.Contains("nope", result.Reason);
        Assert.Empty(host.StagingFiles());
    }

    [Fact]
    public async Task Cancelled_ingest_leaves_nothing_behind()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        using var cts = new CancellationTokenSource();
        var bytes = TestInstances.Single(out _, size: 256);
        await using var slow = new CancellingStream(bytes, cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => host.Ingest.IngestAsync(slow, IngestContext.Default, cts.Token));
        Assert.Empty(host.InstanceFiles());
        Assert.Empty(host.StagingFiles());
    }

    /// <summary>Cancels its token after the first read.</summary>
    private sealed class CancellingStream(byte[] bytes, CancellationTokenSource cts) : MemoryStream(bytes)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await base.ReadAsync(buffer[..Math.Min(buffer.Length, 1000)], cancellationToken);
            await cts.CancelAsync();
            return n;
        }
    }
}
