using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Server.Infrastructure;

/// <summary>Applies pending EF Core migrations to the index before the server takes requests.</summary>
public sealed class IndexMigrator(IServiceScopeFactory scopes, ILogger<IndexMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<KaapanaDbContext>();

        if (db.Database.IsSqlite())
        {
            await EnableWriteAheadLogAsync(db, cancellationToken);
        }

        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        await db.Database.MigrateAsync(cancellationToken);
        logger.LogInformation("Index database ready; applied {Count} migration(s): {Migrations}", pending.Count, pending);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // WAL lets queries read while an ingest writes. The mode is stored in the database file,
    // so setting it once per start is enough for every later connection.
    private async Task EnableWriteAheadLogAsync(KaapanaDbContext db, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            var mode = (string?)await command.ExecuteScalarAsync(cancellationToken);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                logger.LogWarning("SQLite refused WAL mode for {DataSource}; journal mode is {Mode}", connection.DataSource, mode);
            }
        }
        finally
        {
            await connection.CloseAsync();
        }
    }
}
