using System.IO.Compression;
using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Export;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Archive.Export;

/// <summary>Dataset and version zips from a real archive: entries byte-identical to the stored files, sizes known before, progress, cancellation.</summary>
public sealed class DatasetZipExportTests : IAsyncLifetime
{
    private ArchiveTestHost _host = null!;
    private readonly List<string> _series = [];
    private int _datasetId;
    private string _study = "";

    private SeriesZipWriter Writer => _host.Services.GetRequiredService<SeriesZipWriter>();

    public async Task InitializeAsync()
    {
        _host = await ArchiveTestHost.StartAsync();
        string study = _study = TestInstances.NewUid();
        for (int s = 0; s < 3; s++)
        {
            string series = TestInstances.NewUid();
            _series.Add(series);
            for (int i = 1; i <= 4; i++)
            {
                var bytes = TestInstances.Create(new TestInstances.Spec("ZIP/PAT 1", "Zip^Test", study, series, TestInstances.NewUid(), InstanceNumber: i, Size: 64));
                Assert.Equal(IngestStatus.Stored, (await _host.IngestAsync(bytes)).Status);
            }
        }
        var project = await _host.Projects.FindProjectAsync("default");
        var dataset = await _host.Projects.CreateDatasetAsync(project!.Id, "zip-me");
        _datasetId = dataset.Id;
        await _host.Projects.AddSeriesToDatasetAsync(_datasetId, _series.Take(2));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Dataset_zip_entries_are_byte_identical_to_the_stored_files_and_the_size_is_known_before()
    {
        var members = await _host.Projects.GetDatasetSeriesAsync(_datasetId);
        var (instances, bytes) = await Writer.MeasureAsync(members);
        await using var db = _host.CreateDb();
        var stored = await db.Instances.AsNoTracking().Where(i => members.Contains(i.Series.SeriesInstanceUID))
            .Select(i => new { i.SOPInstanceUID, i.StoragePath, i.FileSize }).ToListAsync();
        Assert.Equal(8, instances);
        Assert.Equal(stored.Sum(s => s.FileSize), bytes);
        Assert.Equal(bytes, (await _host.Services.GetRequiredService<IDatasetQueries>().GetAsync(_datasetId))!.TotalSize);

        var registry = new ZipExportRegistry();
        string token = registry.Create("zip-me", instances, bytes);
        Assert.True(ZipExportRegistry.IsToken(token));
        var reports = new List<ZipExportProgress>();
        using var zipBytes = new MemoryStream();
        var summary = await Writer.WriteAsync(members, new NonSeekable(zipBytes), new SyncProgress(p => { reports.Add(p); registry.Report(token, p); }));
        registry.Finish(token, ZipExportState.Done);
        Assert.Equal(new ZipExportProgress(8, 8, bytes, bytes), registry.Get(token)!.Progress);
        Assert.Equal(ZipExportState.Done, registry.Get(token)!.State);
        Assert.Equal(Enumerable.Range(1, 8), reports.Select(r => r.InstancesDone));
        Assert.Equal(8, summary.Instances);
        Assert.Empty(summary.MissingFiles);

        zipBytes.Position = 0;
        using var zip = new ZipArchive(zipBytes, ZipArchiveMode.Read);
        Assert.Equal(8, zip.Entries.Count);
        foreach (var s in stored)
        {
            var entry = Assert.Single(zip.Entries, e => e.Name == s.SOPInstanceUID + ".dcm");
            Assert.StartsWith("ZIP_PAT_1/", entry.FullName); // patient ID made safe for file systems
            using var ms = new MemoryStream();
            await using (var es = entry.Open()) await es.CopyToAsync(ms);
            Assert.Equal(await File.ReadAllBytesAsync(_host.PathOf(s.StoragePath)), ms.ToArray());
        }
    }

    [Fact]
    public async Task A_version_zip_holds_the_frozen_instances_only()
    {
        var version = await _host.Projects.FreezeAsync(_datasetId, "before late data");
        // A late instance joins a member series after the freeze: the version's zip must not contain it.
        var late = TestInstances.Create(new TestInstances.Spec("ZIP/PAT 1", "Zip^Test", _study, _series[0], TestInstances.NewUid(), InstanceNumber: 9, Size: 64));
        Assert.Equal(IngestStatus.Stored, (await _host.IngestAsync(late)).Status);
        var content = (await _host.Services.GetRequiredService<IDatasetQueries>().VersionContentAsync(version.Id))!.Value;
        Assert.Equal(8, content.InstanceUids.Count);
        Assert.Equal(9, (await Writer.MeasureAsync(content.SeriesUids)).Instances);
        Assert.Equal(8, (await Writer.MeasureAsync(content.SeriesUids, onlyInstances: content.InstanceUids)).Instances);
        using var ms = new MemoryStream();
        await Writer.WriteAsync(content.SeriesUids, ms, null, default, content.InstanceUids);
        ms.Position = 0;
        using var zip = new ZipArchive(ms, ZipArchiveMode.Read);
        Assert.Equal(content.InstanceUids.Order(), zip.Entries.Select(e => e.Name[..^4]).Order());
    }

    [Fact]
    public async Task A_cancelled_download_stops_the_writer()
    {
        var members = await _host.Projects.GetDatasetSeriesAsync(_datasetId);
        using var cts = new CancellationTokenSource();
        int done = 0;
        // The client goes away after the third file, as a browser cancelling the download does.
        var progress = new SyncProgress(p => { done = p.InstancesDone; if (p.InstancesDone == 3) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Writer.WriteAsync(members, new NonSeekable(new MemoryStream()), progress, cts.Token));
        Assert.Equal(3, done);
    }

    /// <summary>Progress reported on the writer's thread, in order.</summary>
    private sealed class SyncProgress(Action<ZipExportProgress> report) : IProgress<ZipExportProgress>
    {
        public void Report(ZipExportProgress value) => report(value);
    }

    /// <summary>An HTTP response body as Kestrel gives it: write-only, not seekable, synchronous writes refused.</summary>
    private sealed class NonSeekable(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => throw new InvalidOperationException("Synchronous operations are disallowed.");
        public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous operations are disallowed.");
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => inner.WriteAsync(buffer, offset, count, ct);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => inner.WriteAsync(buffer, ct);
    }
}
