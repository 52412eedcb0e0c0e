using Kaapana.Core.Archive;
using Kaapana.Core.Archive.Ingest;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive;

public class ConcurrencyTests
{
    [Fact]
    public async Task Eight_parallel_ingesters_lose_nothing_and_share_transactions()
    {
        const int ingesters = 8, perIngester = 200;
        await using var host = await ArchiveTestHost.StartAsync();
        // Each ingester sends its own series (as a modality would), generated up front so the ingest itself is measured.
        var work = Enumerable.Range(0, ingesters).Select(_ =>
        {
            var study = TestInstances.NewUid();
            var series = TestInstances.NewUid();
            return Enumerable.Range(1, perIngester).Select(i =>
            {
                var sop = TestInstances.NewUid();
                return (Sop: sop, Bytes: TestInstances.Create(new TestInstances.Spec("P-CONC", "Concurrent^Test", study, series, sop, InstanceNumber: i)));
            }).ToList();
        }).ToList();

        long transactionsBefore = host.Writer.Transactions;
        var results = await Task.WhenAll(work.Select(items => Task.Run(async () =>
        {
            var list = new List<IngestResult>();
            foreach (var (_, bytes) in items) list.Add(await host.IngestAsync(bytes));
            return list;
        })));

        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(ingesters * perIngester, all.Count);
        Assert.All(all, r => Assert.Equal(IngestStatus.Stored, r.Status));
        long transactions = host.Writer.Transactions - transactionsBefore;
        Assert.True(transactions < ingesters * perIngester, $"{transactions} transactions for {ingesters * perIngester} instances: no group commit");

        await using var db = host.CreateDb();
        var indexed = (await db.Instances.Select(i => i.SOPInstanceUID).ToListAsync()).ToHashSet();
        Assert.Equal(ingesters * perIngester, indexed.Count);
        Assert.All(work.SelectMany(w => w), item => Assert.Contains(item.Sop, indexed));
        Assert.All(await db.Series.ToListAsync(), s => Assert.Equal(perIngester, s.NumberOfInstances));
        var study = await db.Patients.SingleAsync();
        Assert.Equal(ingesters * perIngester, study.NumberOfInstances);
        Assert.Equal(ingesters * perIngester, host.InstanceFiles().Count);
    }

    [Fact]
    public async Task The_same_instance_sent_concurrently_is_stored_once()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        var bytes = TestInstances.Single(out _);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => host.IngestAsync(bytes))));
        Assert.Single(results, r => r.Status == IngestStatus.Stored);
        Assert.Equal(7, results.Count(r => r.Status == IngestStatus.Duplicate));
        await using var db = host.CreateDb();
        Assert.Equal(1, await db.Instances.CountAsync());
        Assert.Single(host.InstanceFiles());
    }
}

public class PowerLossSafeModeTests
{
    [Fact]
    public async Task Power_loss_safe_mode_stores_everything_and_commits_with_synchronous_full()
    {
        await using var host = await ArchiveTestHost.StartAsync(settings: new Dictionary<string, string?> { ["Kaapana:Archive:Durability"] = "PowerLossSafe" });
        var series = Enumerable.Range(0, 4).Select(_ => TestInstances.NewUid()).ToList();
        var items = series.SelectMany(s => Enumerable.Range(0, 25).Select(i => TestInstances.Single(out _, s))).ToList();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(k => Task.Run(async () =>
        {
            var list = new List<IngestResult>();
            foreach (var bytes in items.Skip(k * 25).Take(25)) list.Add(await host.IngestAsync(bytes));
            return list;
        })));
        Assert.All(results.SelectMany(r => r), r => Assert.Equal(IngestStatus.Stored, r.Status));
        await using var db = host.CreateDb();
        Assert.Equal(100, await db.Instances.CountAsync());
        // The index connection really runs with synchronous=FULL (2).
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA synchronous;";
        Assert.Equal(2L, await command.ExecuteScalarAsync());
        Assert.True((await host.Maintenance.CheckConsistencyAsync()).IsConsistent);
    }
}

/// <summary>Different copies of one SOP Instance UID arriving at once over the network: each sees the one stored before it.</summary>
public class ConcurrentDuplicatePolicyTests
{
    /// <summary>The data set of a Part 10 file as a C-STORE brings it, with its announced encoding.</summary>
    private static (byte[] Dataset, IngestContext Context) AsNetworkStore(byte[] part10, DuplicatePolicy policy)
    {
        using var ms = new MemoryStream(part10);
        var meta = Kaapana.Dicom.Network.DicomFileMeta.TryReadHeaderAsync(ms, CancellationToken.None).GetAwaiter().GetResult()!;
        var file = Kaapana.Dicom.DicomFile.Read(new MemoryStream(part10));
        var dataset = part10[(int)ms.Position..];
        var context = new IngestContext
        {
            Source = Kaapana.Core.Archive.Index.IngestSource.Dimse,
            DuplicatePolicy = policy,
            DatasetEncoding = new DatasetEncoding(Kaapana.Dicom.DicomTransferSyntax.ExplicitVRLittleEndian,
                file.Dataset.GetString(Kaapana.Dicom.DicomTags.SOPClassUID), file.Dataset.GetString(Kaapana.Dicom.DicomTags.SOPInstanceUID)),
        };
        Assert.NotNull(meta);
        return (dataset, context);
    }

    [Theory]
    [InlineData(DuplicatePolicy.Replace)]
    [InlineData(DuplicatePolicy.Reject)]
    public async Task Eight_different_copies_of_one_uid_at_once_follow_the_duplicate_policy(DuplicatePolicy policy)
    {
        await using var host = await ArchiveTestHost.StartAsync();
        string study = TestInstances.NewUid(), series = TestInstances.NewUid(), sop = TestInstances.NewUid();
        var copies = Enumerable.Range(0, 8).Select(i => AsNetworkStore(TestInstances.Create(new TestInstances.Spec(
            "P-EARLY", "Early^Lookup", study, series, sop, SeriesDescription: "copy " + i)), policy)).ToList();
        var results = await Task.WhenAll(copies.Select(c => Task.Run(() => host.IngestAsync(c.Dataset, c.Context))));

        if (policy == DuplicatePolicy.Replace)
        {
            // The first is stored, each later one replaces the one before: none may mistake the UID for new.
            Assert.All(results, r => Assert.Equal(IngestStatus.Stored, r.Status));
            Assert.Equal(7, results.Count(r => r.Replaced));
        }
        else
        {
            Assert.Single(results, r => r.Status == IngestStatus.Stored);
            Assert.Equal(7, results.Count(r => r.Status == IngestStatus.Rejected));
        }
        await using var db = host.CreateDb();
        var row = await db.Instances.SingleAsync(i => i.SOPInstanceUID == sop);
        Assert.Single(host.InstanceFiles());
        Assert.Contains(results, r => r.Status == IngestStatus.Stored && r.ContentHash == row.ContentHash);
        Assert.True((await host.Maintenance.CheckConsistencyAsync()).IsConsistent);
    }
}
