using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using Kaapana.Core.Archive;
using Kaapana.Core.Archive.Ingest;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive;

public class ContentHashTests
{
    /// <summary>The data set of a Part 10 file: what follows the preamble, "DICM" and the meta group.</summary>
    private static byte[] DatasetOf(byte[] part10)
    {
        Assert.True(part10.AsSpan(128, 4).SequenceEqual("DICM"u8));
        return part10[(144 + (int)BinaryPrimitives.ReadUInt32LittleEndian(part10.AsSpan(140)))..];
    }

    [Theory]
    [InlineData(ContentHashAlgorithm.XxHash128)]
    [InlineData(ContentHashAlgorithm.Sha256)]
    public async Task The_hash_covers_the_data_set_only_in_any_chunking(ContentHashAlgorithm algorithm)
    {
        var file = TestInstances.Single(out _, size: 64);
        var dataset = DatasetOf(file);
        var expected = Convert.ToHexStringLower(algorithm == ContentHashAlgorithm.Sha256 ? SHA256.HashData(dataset) : XxHash128.Hash(dataset));

        var (hash, length) = await ContentHasher.HashAsync(new MemoryStream(file), default, algorithm);
        Assert.Equal(expected, hash);
        Assert.Equal(file.Length, length);
        Assert.Equal(algorithm, ContentHasher.AlgorithmOf(hash));

        // Chunk borders inside the preamble, the meta group and the data set give the same hash.
        foreach (var step in new[] { 1, 7, 143, 145, 4096 })
        {
            using var hasher = new ContentHasher(algorithm);
            for (int at = 0; at < file.Length; at += step) hasher.Append(file.AsSpan(at, Math.Min(step, file.Length - at)));
            Assert.Equal(expected, hasher.Finish());
        }
    }

    [Fact]
    public async Task An_archive_with_SHA256_hashes_still_recognises_a_resent_instance_and_a_changed_one()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var sop = TestInstances.NewUid();
        var spec = new TestInstances.Spec("P-OLD", "Old^Hash", TestInstances.NewUid(), TestInstances.NewUid(), sop);
        var first = TestInstances.Create(spec);
        var changed = TestInstances.Create(spec with { Extra = "changed protocol" });
        Assert.Equal(IngestStatus.Stored, (await host.IngestAsync(first)).Status);

        // What an archive written before XXH128 holds for this instance: SHA-256 over its data set.
        string legacy;
        await using (var db = host.CreateDb())
        {
            var row = await db.Instances.SingleAsync(i => i.SOPInstanceUID == sop);
            Assert.Equal(32, row.ContentHash.Length);
            legacy = Convert.ToHexStringLower(SHA256.HashData(DatasetOf(File.ReadAllBytes(host.PathOf(row.StoragePath)))));
            row.ContentHash = legacy;
            await db.SaveChangesAsync();
        }

        var again = await host.IngestAsync(first);
        Assert.Equal(IngestStatus.Duplicate, again.Status);
        Assert.False(again.ContentDiffers);

        var other = await host.IngestAsync(changed);
        Assert.Equal(IngestStatus.Duplicate, other.Status);
        Assert.True(other.ContentDiffers); // the default policy keeps the stored copy

        await using (var db = host.CreateDb())
            Assert.Equal(legacy, (await db.Instances.SingleAsync(i => i.SOPInstanceUID == sop)).ContentHash);
        Assert.Single(host.InstanceFiles());
        Assert.Empty(host.StagingFiles());
    }
}
