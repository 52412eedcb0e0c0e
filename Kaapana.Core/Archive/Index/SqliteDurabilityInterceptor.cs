using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Kaapana.Core.Archive.Index;

/// <summary>
/// Sets the per-connection SQLite durability on every connection the index opens: <c>synchronous=NORMAL</c> (WAL: a commit
/// survives a process crash, no fsync per commit) or <c>FULL</c> (WAL fsynced at each commit: survives power loss). The
/// journal mode itself (WAL) is a property of the database file, set once at startup. Also a larger page cache and a busy
/// timeout. Other providers are left alone.
/// </summary>
public sealed class SqliteDurabilityInterceptor(ArchiveDurability durability) : DbConnectionInterceptor
{
    // A 32 MiB page cache (the default is 2 MiB): keeps the upper levels of the UID indexes in memory as the index grows.
    // busy_timeout: SQLite's own busy handler retries a locked database after 1, 2, 5... ms. Without it Microsoft.Data.Sqlite
    // retries after 150 ms, so a commit that met a checkpoint or a reader's lock for a moment stalled its C-STORE 150 ms.
    private string Pragma { get; } = string.Intern((durability == ArchiveDurability.PowerLossSafe ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;")
        + " PRAGMA cache_size=-32768; PRAGMA busy_timeout=" + BusyTimeoutMilliseconds + ";");

    /// <summary>How long SQLite itself waits for a lock before the provider's own (coarser) retry takes over.</summary>
    public const int BusyTimeoutMilliseconds = 5000;

    // Native connections (pooled by Microsoft.Data.Sqlite, so one is opened many times) already set to a pragma text: the
    // pragmas are per native connection, so a reopened pooled connection needs them only if another setting was applied.
    private static readonly ConditionalWeakTable<SQLitePCL.sqlite3, string> Applied = new();

    private bool NeedsPragma(DbConnection connection, out SQLitePCL.sqlite3? handle)
    {
        handle = (connection as SqliteConnection)?.Handle;
        if (handle is null) return connection is SqliteConnection;
        return !(Applied.TryGetValue(handle, out var applied) && ReferenceEquals(applied, Pragma));
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (!NeedsPragma(connection, out var handle)) return;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = Pragma;
            command.ExecuteNonQuery();
        }
        if (handle is not null) Applied.AddOrUpdate(handle, Pragma);
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (!NeedsPragma(connection, out var handle)) return;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = Pragma;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        if (handle is not null) Applied.AddOrUpdate(handle, Pragma);
    }
}
