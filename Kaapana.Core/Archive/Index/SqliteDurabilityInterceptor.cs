using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Kaapana.Core.Archive.Index;

/// <summary>
/// Sets the per-connection SQLite durability on every connection the index opens: <c>synchronous=NORMAL</c> (WAL: a commit
/// survives a process crash, no fsync per commit) or <c>FULL</c> (WAL fsynced at each commit: survives power loss). The
/// journal mode itself (WAL) is a property of the database file, set once at startup. Also a larger page cache. Other
/// providers are left alone.
/// </summary>
public sealed class SqliteDurabilityInterceptor(ArchiveDurability durability) : DbConnectionInterceptor
{
    // A 32 MiB page cache (the default is 2 MiB): keeps the upper levels of the UID indexes in memory as the index grows.
    private string Pragma => (durability == ArchiveDurability.PowerLossSafe ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;")
        + " PRAGMA cache_size=-32768;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (connection is not SqliteConnection) return;
        using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (connection is not SqliteConnection) return;
        await using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
