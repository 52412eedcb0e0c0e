using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Archive.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Archive;

/// <summary>
/// Runs once at startup, after the index is migrated and before anything is ingested: removes staging files a crash left
/// behind and creates the default project and the configured receiving endpoints.
/// </summary>
public sealed class ArchiveInitializer(IArchiveStorage storage, ProjectCatalog projects, ILogger<ArchiveInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (storage is FileSystemArchiveStorage fs)
        {
            int removed = fs.CleanStaging();
            if (removed > 0) logger.LogWarning("Removed {Count} staging file(s) left by an interrupted ingest", removed);
            logger.LogInformation("Archive at {Root}, durability {Durability}", fs.Root, fs.Durability);
        }
        await projects.SeedAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
