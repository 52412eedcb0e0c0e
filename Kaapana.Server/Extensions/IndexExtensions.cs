using Kaapana.Core;
using Kaapana.Core.Archive.Index;
using Kaapana.Server.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Extensions;

public static class IndexExtensions
{
    /// <summary>
    /// The archive index: EF Core on SQLite at <c>&lt;DataDir&gt;/kaapana.db</c>, migrated at startup. Registered as a
    /// factory (singletons such as the index writer create short-lived contexts) and as a scoped context.
    /// </summary>
    public static IHostApplicationBuilder AddKaapanaIndex(this IHostApplicationBuilder builder)
    {
        builder.Services.AddDbContextFactory<KaapanaDbContext>((services, options) =>
        {
            var kaapana = services.GetRequiredService<IOptions<KaapanaOptions>>().Value;
            var connectionString = new SqliteConnectionStringBuilder { DataSource = kaapana.IndexDatabasePath }.ToString();
            options.UseSqlite(connectionString)
                .AddInterceptors(new SqliteDurabilityInterceptor(kaapana.Archive.Durability));
        });

        // Registered before the web server starts listening, so no request sees an old schema.
        builder.Services.AddHostedService<IndexMigrator>();
        builder.Services.AddHealthChecks().AddCheck<IndexHealthCheck>("index");

        return builder;
    }
}
