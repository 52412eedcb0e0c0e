using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive;

public class IndexConnectionTests
{
    [Fact]
    public async Task Index_connections_wait_for_locks_in_sqlite_not_in_the_providers_150_ms_retry()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        await using var db = host.CreateDb();
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA busy_timeout;";
        Assert.Equal((long)SqliteDurabilityInterceptor.BusyTimeoutMilliseconds, await command.ExecuteScalarAsync());
        command.CommandText = "PRAGMA synchronous;";
        Assert.Equal(1L, await command.ExecuteScalarAsync()); // NORMAL, the default durability
    }
}
