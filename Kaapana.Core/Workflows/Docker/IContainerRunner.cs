namespace Kaapana.Core.Workflows.Docker;

/// <summary>
/// Runs algorithm containers: the workflow engine's only door to a container engine (ARCHITECTURE.md). One call of
/// <see cref="RunAsync"/> is one container for one work item, from creation to removal.
/// </summary>
public interface IContainerRunner
{
    /// <summary>Whether the engine answers, within <see cref="DockerOptions.PingTimeout"/>. Never throws: the server runs without Docker.</summary>
    Task<ContainerEngineStatus> PingAsync(CancellationToken cancellationToken = default);

    /// <summary>The image's ID, digests and labels (the manifest label among them), or null when the engine does not have it.</summary>
    /// <exception cref="ContainerEngineException">The engine is unreachable or refused.</exception>
    Task<ContainerImageInfo?> InspectImageAsync(string image, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates the container, streams its output lines to <paramref name="onLogLine"/> as they come (awaited, so a slow
    /// consumer slows the container rather than growing memory), waits for its exit, and removes it. Timeout and
    /// cancellation kill it and are reported as <see cref="ContainerOutcome.TimedOut"/> / <see cref="ContainerOutcome.Cancelled"/>
    /// rather than thrown.
    /// </summary>
    /// <exception cref="ContainerEngineException">The engine is unreachable, the image is missing, or the container could not be created or started.</exception>
    Task<ContainerRunResult> RunAsync(ContainerRunSpec spec, Func<ContainerLogLine, CancellationToken, ValueTask>? onLogLine = null,
        CancellationToken cancellationToken = default);

    /// <summary>Containers this server instance started (label <c>org.kaapana.instance</c>) that still exist, running or not.</summary>
    /// <exception cref="ContainerEngineException">The engine is unreachable or refused.</exception>
    Task<IReadOnlyList<ManagedContainer>> ListContainersAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Kills and removes this instance's containers whose item is not in <paramref name="liveItemIds"/>: the orphans of a
    /// crash or restart. Call at start-up with the items the engine still runs. Returns what it removed.
    /// </summary>
    /// <exception cref="ContainerEngineException">The engine is unreachable or refused.</exception>
    Task<IReadOnlyList<ManagedContainer>> ReconcileAsync(IReadOnlySet<string> liveItemIds, CancellationToken cancellationToken = default);
}
