namespace Kaapana.Core.Workflows.Docker;

/// <summary>How a container run ended.</summary>
public enum ContainerOutcome
{
    /// <summary>Exited with code 0.</summary>
    Succeeded,

    /// <summary>Exited with another code (or was killed by the kernel, see <see cref="ContainerRunResult.OutOfMemory"/>).</summary>
    Failed,

    /// <summary>Ran past its timeout and was killed.</summary>
    TimedOut,

    /// <summary>The caller cancelled; the container was killed.</summary>
    Cancelled,
}

/// <summary>The end of one container run; the container itself is removed by then.</summary>
/// <param name="ExitCode">Null when the container was killed by us (timeout, cancellation) before it exited.</param>
/// <param name="ImageId">ID (<c>sha256:…</c>) of the image the container actually ran, for provenance.</param>
public sealed record ContainerRunResult(
    ContainerOutcome Outcome,
    long? ExitCode,
    string ContainerId,
    string ImageId,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    bool OutOfMemory,
    ContainerLogs Logs);
