using Kaapana.Core;
using Kaapana.Server.Infrastructure;

namespace Kaapana.Server.Extensions;

public static class KaapanaDefaultsExtensions
{
    /// <summary>Where the server listens unless told otherwise: this machine only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:8080";

    /// <summary>Default listen address; binds <see cref="KaapanaOptions"/> and makes sure the data folder exists.</summary>
    public static IHostApplicationBuilder AddKaapanaDefaults(this IHostApplicationBuilder builder)
    {
        // Not a "Urls" key in appsettings.json: that would outrank ASPNETCORE_URLS and
        // ASPNETCORE_HTTP_PORTS, which container images and compose files set. Applied only
        // when no source (--urls, URLS, ASPNETCORE_URLS, HTTP(S)_PORTS) names an address.
        string[] addressKeys = ["urls", "http_ports", "https_ports"];
        if (addressKeys.All(key => string.IsNullOrWhiteSpace(builder.Configuration[key])))
        {
            builder.Configuration.AddInMemoryCollection([new("urls", DefaultUrls)]);
        }

        builder.Services.AddOptions<KaapanaOptions>()
            .BindConfiguration(KaapanaOptions.SectionName)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDir), "Kaapana:DataDir must not be empty.")
            .PostConfigure(o =>
            {
                if (string.IsNullOrWhiteSpace(o.DataDir))
                {
                    return; // reported by Validate
                }

                // Resolved once here so logs, index and job store agree even if the
                // working directory changes later.
                o.DataDir = Path.GetFullPath(o.DataDir);
                Directory.CreateDirectory(o.DataDir);
            })
            .ValidateOnStart();

        return builder;
    }

    /// <summary>
    /// The server process's lifetime: graceful stop on SIGTERM/SIGINT, also when the signal arrives during startup (see
    /// <see cref="StartThenStopLifetime"/>). Not part of the defaults, so in-process test hosts keep the test runner's signals.
    /// </summary>
    public static IHostApplicationBuilder AddKaapanaLifetime(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IHostLifetime, StartThenStopLifetime>();
        return builder;
    }
}
