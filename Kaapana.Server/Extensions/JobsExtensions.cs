using Hangfire;
using Hangfire.Storage.SQLite;
using Kaapana.Core;
using Kaapana.Server.Infrastructure;
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
                .UseSQLiteStorage(kaapana.JobsDatabasePath);
        });
        builder.Services.AddHangfireServer();

        return builder;
    }

    public static IEndpointRouteBuilder MapKaapanaJobsDashboard(this IEndpointRouteBuilder app)
    {
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            DashboardTitle = "Kaapana jobs",
            Authorization = [new LoopbackOnlyDashboardAuthorizationFilter()],
        });

        return app;
    }
}
