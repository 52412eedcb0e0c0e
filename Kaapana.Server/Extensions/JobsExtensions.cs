using Hangfire;
using Hangfire.Storage.SQLite;
using Kaapana.Core;
using Kaapana.Server.Auth;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Extensions;

public static class JobsExtensions
{
    public const string DashboardPath = "/jobs";

    /// <summary>Hangfire with its own SQLite store at <c>&lt;DataDir&gt;/jobs.db</c>, kept apart from the index so job polling never contends with index writes.</summary>
    public static IHostApplicationBuilder AddKaapanaJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHangfire((services, configuration) =>
        {
            var kaapana = services.GetRequiredService<IOptions<KaapanaOptions>>().Value;
            configuration
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UseSQLiteStorage(kaapana.JobsDatabasePath, new SQLiteStorageOptions
                {
                    // The storage only polls (no in-process wake-up on enqueue); its 15 s default would leave a queued
                    // workflow item waiting that long before a free worker sees it.
                    QueuePollInterval = TimeSpan.FromSeconds(1),
                });
        });
        // Hangfire's default is 5 workers per core (at most 20), each an idle thread polling the job store; archive jobs are
        // few and I/O-bound, so one per core is enough and leaves the cores to ingest.
        builder.Services.AddHangfireServer(options => options.WorkerCount = Math.Max(2, Environment.ProcessorCount));

        return builder;
    }

    public static IEndpointRouteBuilder MapKaapanaJobsDashboard(this IEndpointRouteBuilder app)
    {
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            DashboardTitle = "Kaapana jobs",
            Authorization = [new AdminOnlyDashboardAuthorizationFilter()],
        }).RequireAuthorization(AuthExtensions.AdminPolicy);

        return app;
    }
}
