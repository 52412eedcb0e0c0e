using System.Collections.Concurrent;
using Kaapana.Core.Archive.Ingest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Archive;

public class SeriesCompletionTests
{
    private sealed class RecordingHandler : ISeriesCompletedHandler
    {
        public static readonly ConcurrentQueue<SeriesCompleted> Seen = new();

        public Task HandleAsync(SeriesCompleted completed, CancellationToken ct)
        {
            Seen.Enqueue(completed);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_series_completes_after_the_quiet_period_and_a_late_instance_reopens_it()
    {
        await using var host = await ArchiveTestHost.StartAsync(services: s => s.AddScoped<ISeriesCompletedHandler, RecordingHandler>());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = host.Events.SubscribeSeriesCompleted(cts.Token);
        var study = TestInstances.NewUid();
        var series = TestInstances.NewUid();
        var three = Enumerable.Range(0, 3).Select(i => TestInstances.Single(out _, series, study)).ToList();
        await Task.WhenAll(three.Select(b => host.IngestAsync(b)));

        var first = await NextForAsync(events, series, cts.Token);
        Assert.Equal(3, first.NumberOfInstances);
        Assert.Equal(study, first.StudyInstanceUID);
        Assert.Equal("CT", first.Modality);
        await using (var db = host.CreateDb())
        {
            var row = await db.Series.SingleAsync(s => s.SeriesInstanceUID == series);
            Assert.True(row.IsComplete);
            Assert.NotNull(row.CompletedAt);
        }
        Assert.Contains(RecordingHandler.Seen, e => e.SeriesInstanceUID == series);

        // A late instance reopens the series; it completes again with four.
        await host.IngestAsync(TestInstances.Single(out _, series, study));
        await using (var db = host.CreateDb())
            Assert.False((await db.Series.SingleAsync(s => s.SeriesInstanceUID == series)).IsComplete);
        var second = await NextForAsync(events, series, cts.Token);
        Assert.Equal(4, second.NumberOfInstances);
    }

    [Fact]
    public async Task A_series_left_incomplete_by_a_previous_run_completes_after_restart()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-stability-").FullName;
        try
        {
            var series = TestInstances.NewUid();
            var slow = new Dictionary<string, string?> { ["Kaapana:Archive:SeriesQuietPeriod"] = "01:00:00" };
            await using (var host = await ArchiveTestHost.StartAsync(dataDir, slow))
                await host.IngestAsync(TestInstances.Single(out _, series));

            await using (var host = await ArchiveTestHost.StartAsync(dataDir))
            {
                await using (var db = host.CreateDb())
                    Assert.False((await db.Series.SingleAsync()).IsComplete);
                var deadline = DateTime.UtcNow.AddSeconds(15);
                while (true)
                {
                    await using (var db = host.CreateDb())
                        if ((await db.Series.SingleAsync()).IsComplete) break;
                    Assert.True(DateTime.UtcNow < deadline, "series did not complete after restart");
                    await Task.Delay(50);
                }
            }
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task<SeriesCompleted> NextForAsync(System.Threading.Channels.ChannelReader<SeriesCompleted> events, string seriesUid, CancellationToken ct)
    {
        await foreach (var e in events.ReadAllAsync(ct))
            if (e.SeriesInstanceUID == seriesUid) return e;
        throw new InvalidOperationException("event stream ended");
    }
}
