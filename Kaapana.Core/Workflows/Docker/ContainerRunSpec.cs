namespace Kaapana.Core.Workflows.Docker;

/// <summary>
/// One container for one work item. <see cref="InputDirectory"/> is mounted read-only at <c>/input</c> (its files must be
/// readable by the container user), <see cref="OutputDirectory"/> writable at <c>/output</c> (created when missing).
/// Both must be absolute host paths.
/// </summary>
/// <param name="Image">Image reference; pass the pinned image ID (<c>sha256:…</c>) or repo digest for reproducible runs.</param>
/// <param name="RunId">Run the item belongs to (label <c>org.kaapana.run</c>).</param>
/// <param name="ItemId">The work item (label <c>org.kaapana.item</c>); what <see cref="IContainerRunner.ReconcileAsync"/> matches.</param>
public sealed record ContainerRunSpec(string Image, string RunId, string ItemId, string InputDirectory, string OutputDirectory)
{
    /// <summary>Replaces the image's ENTRYPOINT when set.</summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>Replaces the image's CMD (the arguments) when set.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    public ContainerResources Resources { get; init; } = new();

    /// <summary>Joins <see cref="DockerOptions.AllowedNetworkMode"/> instead of <c>none</c>; only for algorithms an admin allowed.</summary>
    public bool NetworkAccess { get; init; }

    /// <summary>Read-only root filesystem with a writable tmpfs at <c>/tmp</c>.</summary>
    public bool ReadOnlyRootFilesystem { get; init; } = true;

    /// <summary>Killed and reported <see cref="ContainerOutcome.TimedOut"/> after this long; default <see cref="DockerOptions.DefaultRunTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>Limits of one container; null = no limit.</summary>
/// <param name="Cpus">CPU share in cores (NanoCPUs), e.g. 1.5.</param>
/// <param name="MemoryBytes">Memory limit; swap is not added on top.</param>
/// <param name="ShmBytes">Size of <c>/dev/shm</c> (Docker's default is 64 MiB; PyTorch data loaders need more).</param>
/// <param name="Gpus">GPUs requested through a device request (0 = none).</param>
public sealed record ContainerResources(double? Cpus = null, long? MemoryBytes = null, long? ShmBytes = null, int Gpus = 0);
