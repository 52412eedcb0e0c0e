using Kaapana.Core.Archive.Dicom;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Runs;
using Kaapana.Server.Extensions;
using Kaapana.Tests.Archive;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kaapana.Tests.Workflows;

/// <summary>
/// Archive + Hangfire jobs + workflow engine as the server composes them (AddKaapanaIndex, AddKaapanaArchive, AddKaapanaJobs,
/// AddKaapanaWorkflows), in a generic host on a data folder. The engine, built-in and trigger test hosts derive from it and
/// differ only in where Docker points and in their own seeding helpers.
/// </summary>
public abstract class WorkflowEngineHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly bool _ownsDir;

    /// <param name="ownsDir">Whether dispose deletes <paramref name="dataDir"/> (false when the test reuses it across restarts).</param>
    protected WorkflowEngineHost(IHost host, string dataDir, bool ownsDir)
    {
        _host = host;
        DataDir = dataDir;
        _ownsDir = ownsDir;
    }

    public string DataDir { get; }
    public IServiceProvider Services => _host.Services;
    public WorkflowRuns Runs => Services.GetRequiredService<WorkflowRuns>();
    public KaapanaDbContext CreateDb() => Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>().CreateDbContext();

    /// <summary>Starts the host on <paramref name="dataDir"/> with <paramref name="config"/>, then <paramref name="settings"/> over it.</summary>
    protected static Task<IHost> StartHostAsync(string dataDir, Dictionary<string, string?> config, IDictionary<string, string?>? settings = null)
    {
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) config[k] = v;
        return ArchiveTestHost.StartHostAsync(dataDir, config, builder =>
        {
            // The archive's node directory reads the receiver's options (remote nodes); the receiver itself (a listening port)
            // is not part of these hosts, so its options are bound here.
            builder.Services.AddOptions<DicomReceiverOptions>().BindConfiguration(DicomReceiverOptions.SectionName);
            builder.AddKaapanaJobs();
            builder.AddKaapanaWorkflows();
        });
    }

    /// <summary>Polls until the run and all its items have ended; on timeout fails with each item's Hangfire job history.</summary>
    public async Task<(WorkflowRun Run, IReadOnlyList<RunItem> Items)> WaitForRunAsync(long runId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (true)
        {
            var r = (await Runs.GetAsync(runId))!.Value;
            if (WorkflowRuns.IsTerminal(r.Run.State) && r.Items.All(i => WorkflowRuns.IsTerminal(i.State))) return r;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Run {runId} did not end in time: {r.Run.State}; items {string.Join(", ", r.Items.Select(i => $"{i.Id}:{i.State}"))}\n" +
                            "Hangfire jobs: " + string.Join("\n", r.Items.Select(i => $"item {i.Id} dispatch {i.Dispatch} job {i.JobId}: {JobState(i.JobId)}")));
            await Task.Delay(100);
        }
    }

    /// <summary>What Hangfire says about a job (state history with reasons and exceptions), for a failure message.</summary>
    private string JobState(string? jobId)
    {
        if (jobId is null) return "no job";
        var details = Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi().JobDetails(jobId);
        return details is null ? "unknown to the job store" : string.Join(" <- ", details.History.Select(h =>
            $"{h.StateName} {h.CreatedAt:HH:mm:ss.fff} {h.Reason} {string.Join(" ", h.Data.Where(d => d.Key is "ExceptionMessage" or "ExceptionType").Select(d => d.Value))}"));
    }

    public async Task StopAsync() => await _host.StopAsync(TimeSpan.FromSeconds(20));

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            _host.Dispose();
            // This host's pools only: clearing every pool would close the idle connections of hosts other tests are using.
            foreach (var db in new[] { "kaapana.db", "jobs.db" })
                using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(
                           new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = Path.Combine(DataDir, db) }.ToString()))
                    Microsoft.Data.Sqlite.SqliteConnection.ClearPool(connection);
            if (_ownsDir)
            {
                try
                {
                    Directory.Delete(DataDir, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }
}
