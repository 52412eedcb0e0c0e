using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Maintenance;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Archive.Storage;
using Kaapana.Server.Extensions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kaapana.Tests.Archive;

/// <summary>
/// The archive as the server composes it (AddKaapanaDefaults, AddKaapanaIndex, AddKaapanaArchive and their hosted services),
/// in a generic host without the web server, on a real SQLite file and real files in a temporary data folder.
/// </summary>
public sealed class ArchiveTestHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly bool _ownsDir;

    private ArchiveTestHost(IHost host, string dataDir, bool ownsDir)
    {
        _host = host;
        DataDir = dataDir;
        _ownsDir = ownsDir;
    }

    public string DataDir { get; }
    public string ArchiveDir => Path.Combine(DataDir, "archive");
    public IServiceProvider Services => _host.Services;
    public IIngestService Ingest => Services.GetRequiredService<IIngestService>();
    public IndexWriter Writer => Services.GetRequiredService<IndexWriter>();
    public IProjectCatalog Projects => Services.GetRequiredService<IProjectCatalog>();
    public IArchiveMaintenance Maintenance => Services.GetRequiredService<IArchiveMaintenance>();
    public IArchiveStorage Storage => Services.GetRequiredService<IArchiveStorage>();
    public IArchiveEvents Events => Services.GetRequiredService<IArchiveEvents>();

    public KaapanaDbContext CreateDb() => Services.GetRequiredService<IDbContextFactory<KaapanaDbContext>>().CreateDbContext();

    /// <param name="dataDir">An existing folder to use (kept on dispose); null for a fresh temporary one (deleted on dispose).</param>
    /// <param name="settings">Extra configuration, e.g. <c>["Kaapana:Archive:DuplicatePolicy"] = "Replace"</c>.</param>
    public static async Task<ArchiveTestHost> StartAsync(string? dataDir = null, IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        bool owns = dataDir is null;
        dataDir ??= Directory.CreateTempSubdirectory("kaapana-archive-").FullName;
        var host = await StartHostAsync(dataDir, settings, builder => services?.Invoke(builder.Services));
        return new ArchiveTestHost(host, dataDir, owns);
    }

    /// <summary>
    /// Builds and starts the archive's generic host on <paramref name="dataDir"/>; <paramref name="compose"/> adds more of the
    /// server's parts (the workflow engine's test host adds jobs and workflows). The host is disposed if it fails to start.
    /// </summary>
    internal static async Task<IHost> StartHostAsync(string dataDir, IDictionary<string, string?>? settings,
        Action<HostApplicationBuilder>? compose)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Testing" });
        var config = new Dictionary<string, string?>
        {
            ["Kaapana:DataDir"] = dataDir,
            ["Kaapana:Archive:SeriesQuietPeriod"] = "00:00:00.300",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) config[k] = v;
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.ClearProviders();
        builder.AddKaapanaDefaults();
        builder.AddKaapanaIndex();
        builder.AddKaapanaArchive();
        compose?.Invoke(builder);
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return host;
    }

    public async Task<IngestResult> IngestAsync(byte[] bytes, IngestContext? context = null)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        return await Ingest.IngestAsync(ms, context ?? IngestContext.Default);
    }

    public async Task<IngestResult> IngestFileAsync(string path, IngestContext? context = null)
    {
        await using var fs = File.OpenRead(path);
        return await Ingest.IngestAsync(fs, context ?? IngestContext.Default);
    }

    /// <summary>Every file below the archive's instances folder (relative, '/'-separated).</summary>
    public List<string> InstanceFiles() =>
        Directory.Exists(Path.Combine(ArchiveDir, ArchiveLayout.InstancesFolder))
            ? Directory.EnumerateFiles(Path.Combine(ArchiveDir, ArchiveLayout.InstancesFolder), "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(ArchiveDir, f).Replace('\\', '/')).ToList()
            : [];

    public List<string> StagingFiles() => Directory.EnumerateFiles(Path.Combine(ArchiveDir, FileSystemArchiveStorage.StagingFolder)).ToList();

    public string PathOf(string key) => Path.Combine(ArchiveDir, key);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _host.Dispose();
            // This host's pool only: clearing every pool would close the idle connections of hosts other tests are using.
            using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(
                       new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = Path.Combine(DataDir, "kaapana.db") }.ToString()))
                Microsoft.Data.Sqlite.SqliteConnection.ClearPool(connection);
            if (_ownsDir)
            {
                try
                {
                    Directory.Delete(DataDir, recursive: true);
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
    }
}
