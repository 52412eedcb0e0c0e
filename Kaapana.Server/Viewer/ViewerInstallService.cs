using Kaapana.Core;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Viewer;

/// <summary>
/// Makes the viewer available without holding up startup: an existing install is used at once; otherwise the package is
/// fetched in the background while <c>/viewer</c> answers 503 saying so. A failure is logged and shown on that page and the
/// install is tried again after <see cref="ViewerOptions.RetryInterval"/>; the rest of the server is unaffected.
/// </summary>
public sealed class ViewerInstallService(
    OhifInstaller installer,
    ViewerInstallState state,
    IOptions<ViewerOptions> options,
    IOptions<KaapanaOptions> kaapana,
    ILogger<ViewerInstallService> logger) : BackgroundService
{
    public static string InstallRoot(ViewerOptions options, KaapanaOptions kaapana) =>
        string.IsNullOrWhiteSpace(options.InstallRoot)
            ? Path.Combine(kaapana.DataDir, "viewer")
            : Path.GetFullPath(options.InstallRoot);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            logger.LogInformation("Viewer disabled (Kaapana:Viewer:Enabled=false)");
            return;
        }

        string root = InstallRoot(o, kaapana.Value);
        await Task.Yield(); // never run the install on the startup path
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (OhifInstaller.FindInstalled(root, o.Version, ViewerExtensions.BasePath) is null)
                {
                    logger.LogInformation("Installing the OHIF viewer {Version} from {Source} into {Root}", o.Version,
                        string.IsNullOrWhiteSpace(o.PackageFile) ? o.Registry : o.PackageFile, root);
                }
                var result = await installer.InstallAsync(o, root, ViewerExtensions.BasePath, stoppingToken);
                if (result.Downloaded)
                {
                    logger.LogInformation(
                        "Viewer installed at {Directory}: {Files} files, {Bytes:N0} bytes, {References} references moved under {BasePath}; " +
                        "download {DownloadBytes:N0} bytes in {DownloadSeconds:F1} s, install {InstallSeconds:F1} s",
                        result.Directory, result.Files, result.InstalledBytes, result.RewrittenReferences, ViewerExtensions.BasePath,
                        result.DownloadBytes, result.DownloadTime.TotalSeconds, result.InstallTime.TotalSeconds);
                }
                else
                {
                    logger.LogInformation("Viewer found at {Directory}", result.Directory);
                }
                state.Set(new ViewerState(ViewerStatus.Ready, o.Version, result.Directory, "Ready."));
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever went wrong (registry, disk, a package of another shape), the rest of the server keeps running;
                // an exception escaping a BackgroundService would stop the host.
                DateTimeOffset? next = o.RetryInterval > TimeSpan.Zero ? DateTimeOffset.UtcNow + o.RetryInterval : null;
                string message = $"The OHIF viewer {o.Version} could not be installed from {o.Registry} into {root}: {e.Message}";
                if (e is ViewerInstallException)
                {
                    logger.LogError("{Message} Next attempt: {Next}", message, next?.ToString("u") ?? "at the next start");
                }
                else
                {
                    logger.LogError(e, "{Message} Next attempt: {Next}", message, next?.ToString("u") ?? "at the next start");
                }
                state.Set(new ViewerState(ViewerStatus.Failed, o.Version, null, message, next));
                if (next is null)
                {
                    return;
                }
                try
                {
                    await Task.Delay(o.RetryInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                state.Set(new ViewerState(ViewerStatus.Installing, o.Version, null, $"Trying again to install the OHIF viewer {o.Version} from {o.Registry}."));
            }
        }
    }
}
