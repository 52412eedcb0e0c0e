using Kaapana.Core.Audit;
using Kaapana.Tests.Archive;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kaapana.Tests.Access;

/// <summary>The audit trail's writer, retention purge and query on a real (SQLite, migrated) index.</summary>
public sealed class AuditTrailTests : IAsyncLifetime
{
    private ArchiveTestHost _host = null!;
    private IDbContextFactory<Kaapana.Core.Archive.Index.KaapanaDbContext> _db = null!;

    public async Task InitializeAsync()
    {
        _host = await ArchiveTestHost.StartAsync();
        _db = _host.Services.GetRequiredService<IDbContextFactory<Kaapana.Core.Archive.Index.KaapanaDbContext>>();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private readonly TestLog _log = new();

    private AuditWriter Writer(AuditOptions? options = null) => new(_db, Options.Create(options ?? new AuditOptions()), _log);

    /// <summary>Keeps what the writer logs, for the failure message.</summary>
    private sealed class TestLog : Microsoft.Extensions.Logging.ILogger<AuditWriter>
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => Lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
        public override string ToString() => string.Join(Environment.NewLine, Lines);
    }

    [Fact]
    public async Task Entries_recorded_before_and_while_the_writer_runs_are_all_written_with_their_details_by_the_time_it_stops()
    {
        var writer = Writer(new AuditOptions { MaxBatchSize = 7 });
        for (int i = 0; i < 25; i++) writer.Record(new AuditEvent("alice", "test.before", $"t{i}", AuditOutcomes.Success, "10.0.0.1", new { i }));
        await writer.StartAsync(CancellationToken.None);
        for (int i = 0; i < 25; i++) writer.Record(new AuditEvent("bob", "test.while", $"t{i}", AuditOutcomes.Denied));
        await writer.StopAsync(CancellationToken.None);

        await using var db = await _db.CreateDbContextAsync();
        Assert.True(await db.AuditEntries.CountAsync(e => e.Action == "test.before") == 25, _log.ToString());
        Assert.Equal(25, await db.AuditEntries.CountAsync(e => e.Action == "test.while" && e.Outcome == "denied"));
        var first = await db.AuditEntries.SingleAsync(e => e.Action == "test.before" && e.Target == "t3");
        Assert.Equal("{\"i\":3}", first.Details);
        Assert.Equal("10.0.0.1", first.SourceAddress);
    }

    [Fact]
    public async Task A_full_queue_drops_instead_of_blocking_the_caller()
    {
        var writer = Writer(new AuditOptions { QueueCapacity = 10 });
        // Not started: nothing drains the queue, and Record must still return at once.
        for (int i = 0; i < 50; i++) writer.Record(new AuditEvent("carol", "test.full", $"t{i}", AuditOutcomes.Success));
        await writer.StartAsync(CancellationToken.None);
        await writer.StopAsync(CancellationToken.None);
        await using var db = await _db.CreateDbContextAsync();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"t{i}").Order(),
            (await db.AuditEntries.Where(e => e.Action == "test.full").Select(e => e.Target!).ToListAsync()).Order());
    }

    [Fact]
    public async Task Purge_deletes_only_entries_older_than_the_retention_and_records_itself()
    {
        var now = new DateTime(2026, 11, 27, 12, 0, 0, DateTimeKind.Utc);
        await using (var db = await _db.CreateDbContextAsync())
        {
            foreach (var days in new[] { 400, 31, 29, 1, 0 })
                db.AuditEntries.Add(new AuditEntry { At = now.AddDays(-days), Actor = "dave", Action = "test.purge", Target = $"{days}d", Outcome = "success" });
            await db.SaveChangesAsync();
        }
        var writer = Writer();
        await writer.StartAsync(CancellationToken.None);
        var purge = new AuditPurge(_db, writer, Options.Create(new AuditOptions { Retention = TimeSpan.FromDays(30) }), NullLogger<AuditPurge>.Instance);
        Assert.Equal(2, await purge.PurgeAsync(now));
        Assert.Equal(0, await purge.PurgeAsync(now)); // nothing left to purge
        await writer.StopAsync(CancellationToken.None);

        await using var check = await _db.CreateDbContextAsync();
        Assert.Equal(["0d", "1d", "29d"], (await check.AuditEntries.Where(e => e.Action == "test.purge").Select(e => e.Target!).ToListAsync()).Order());
        var purged = await check.AuditEntries.SingleAsync(e => e.Action == AuditActions.AuditPurged);
        Assert.Contains("\"deleted\":2", purged.Details);

        var keepForever = new AuditPurge(_db, writer, Options.Create(new AuditOptions { Retention = TimeSpan.Zero }), NullLogger<AuditPurge>.Instance);
        Assert.Equal(0, await keepForever.PurgeAsync(now.AddYears(10)));
    }

    [Fact]
    public async Task Query_filters_pages_newest_first_and_csv_quotes_and_defuses_fields()
    {
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        await using (var db = await _db.CreateDbContextAsync())
        {
            for (int i = 0; i < 12; i++)
                db.AuditEntries.Add(new AuditEntry { At = t0.AddHours(i), Actor = i % 2 == 0 ? "erin" : "=cmd|' /C calc'!A0", Action = "test.query",
                    Target = $"study 1.2.{i}", Outcome = "success", Details = "{\"a\":\"x,y\"}" });
            await db.SaveChangesAsync();
        }
        var query = new AuditQuery(_db);
        var page = await query.SearchAsync(new AuditFilter(Actor: "erin", Action: "test.query"), offset: 1, limit: 2);
        Assert.Equal(6, page.Total);
        Assert.Equal(["study 1.2.8", "study 1.2.6"], page.Items.Select(e => e.Target));
        var range = await query.SearchAsync(new AuditFilter(Action: "test.query", Target: "1.2.1", From: t0.AddHours(2), To: t0.AddHours(11)));
        Assert.Equal(["study 1.2.11", "study 1.2.10"], range.Items.Select(e => e.Target));

        using var ms = new MemoryStream();
        await query.WriteCsvAsync(new AuditFilter(Action: "test.query", Target: "1.2.3"), ms);
        var lines = System.Text.Encoding.UTF8.GetString(ms.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith(",'=cmd|' /C calc'!A0,test.query,study 1.2.3,success,,\"{\"\"a\"\":\"\"x,y\"\"}\"", lines[1]);
    }
}
