using Microsoft.Extensions.Options;

namespace Kaapana.Server.Viewer;

/// <summary>
/// The OHIF viewer served at <see cref="BasePath"/>, reading this server's DICOMweb (same origin, so the browser's
/// cookies reach <c>/dicomweb</c> and no login is needed inside OHIF). Settings: <c>Kaapana:Viewer:*</c> (<see cref="ViewerOptions"/>).
/// </summary>
public static class ViewerExtensions
{
    public const string BasePath = "/viewer";

    public static IHostApplicationBuilder AddKaapanaViewer(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ViewerOptions>().BindConfiguration(ViewerOptions.SectionName);
        services.AddSingleton(sp => new ViewerInstallState(sp.GetRequiredService<IOptions<ViewerOptions>>().Value is { Enabled: true } o
            ? new ViewerState(ViewerStatus.Installing, o.Version, null, $"The OHIF viewer {o.Version} is being installed.")
            : new ViewerState(ViewerStatus.Disabled, ViewerOptions.PinnedVersion, null, "Switched off.")));
        services.AddHttpClient<NpmPackageSource>(http => http.Timeout = Timeout.InfiniteTimeSpan) // OhifInstaller applies DownloadTimeout
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) });
        services.AddSingleton<OhifInstaller>();
        services.AddHostedService<ViewerInstallService>();
        return builder;
    }

    public static IEndpointRouteBuilder MapKaapanaViewer(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(BasePath).WithTags("Viewer").ExcludeFromDescription();
        group.MapMethods("/app-config.js", [HttpMethods.Get, HttpMethods.Head], ViewerFiles.GetAppConfig);
        group.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], (ViewerInstallState state, HttpContext context) =>
            ViewerFiles.GetFile(null, state, context));
        group.MapMethods("/{**path}", [HttpMethods.Get, HttpMethods.Head], ViewerFiles.GetFile);
        return app;
    }
}
