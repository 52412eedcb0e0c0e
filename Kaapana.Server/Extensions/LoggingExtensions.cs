using Kaapana.Core;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Events;

namespace Kaapana.Server.Extensions;

public static class LoggingExtensions
{
    /// <summary>Serilog to the console and to a daily file under <c>&lt;DataDir&gt;/logs</c>; levels from the <c>Serilog</c> section.</summary>
    public static IHostApplicationBuilder AddKaapanaLogging(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddSerilog((services, logger) =>
        {
            var kaapana = services.GetRequiredService<IOptions<KaapanaOptions>>().Value;
            logger
                .ReadFrom.Configuration(configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext()
                .WriteTo.Console()
                .WriteTo.File(
                    Path.Combine(kaapana.LogsDir, "kaapana-.log"),
                    rollingInterval: RollingInterval.Day,
                    retainedFileCountLimit: 31);
        });

        return builder;
    }

    /// <summary>One log line per request; health probes and the dashboard's polling only at Debug.</summary>
    public static IApplicationBuilder UseKaapanaRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(options => options.GetLevel = (context, _, exception) =>
            exception is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
            : context.Request.Path.StartsWithSegments("/healthz") || context.Request.Path.StartsWithSegments("/jobs") ? LogEventLevel.Debug
            : LogEventLevel.Information);
}
