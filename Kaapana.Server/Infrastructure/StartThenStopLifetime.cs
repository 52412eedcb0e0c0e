using System.Runtime.InteropServices;

namespace Kaapana.Server.Infrastructure;

/// <summary>
/// Replaces the console lifetime: SIGTERM, SIGINT and SIGQUIT stop the host gracefully (exit code 0), but a signal that
/// arrives while the host is still starting waits until it has started. The console lifetime stops at once, which cancels
/// the hosted services' StartAsync midway (a migration, the project seed, the DICOM receiver's first index read): the host
/// then logs "Hosting failed to start" and the cancellation escapes Run, so the process aborted (exit 134). A second
/// signal during startup is not deferred, so a start that hangs can still be ended.
/// </summary>
public sealed class StartThenStopLifetime(IHostApplicationLifetime lifetime, IHostEnvironment environment, ILogger<StartThenStopLifetime> logger) : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> _signals = [];
    private int _signalsDuringStart;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
            _signals.Add(PosixSignalRegistration.Create(signal, OnSignal));
        lifetime.ApplicationStarted.Register(() => logger.LogInformation(
            "Application started ({Environment}, content root {ContentRoot}); SIGTERM or Ctrl+C stops it", environment.EnvironmentName, environment.ContentRootPath));
        lifetime.ApplicationStopping.Register(() => logger.LogInformation("Application is shutting down..."));
        return Task.CompletedTask;
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested && Interlocked.Increment(ref _signalsDuringStart) > 1)
            return; // the default action: terminate now
        context.Cancel = true;
        if (!lifetime.ApplicationStarted.IsCancellationRequested)
            logger.LogInformation("{Signal} received while starting; stopping once started", context.Signal);
        // Runs at once when already started.
        lifetime.ApplicationStarted.Register(lifetime.StopApplication);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var s in _signals) s.Dispose();
    }
}
