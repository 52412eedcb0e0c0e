namespace Kaapana.Core.Workflows.Docker;

/// <summary>
/// The bounded copy of a run's logs kept for storage: the last lines of each stream (limits in <see cref="DockerOptions"/>)
/// plus totals, so a reader can tell how much was dropped.
/// </summary>
public sealed record ContainerLogs(IReadOnlyList<ContainerLogLine> Stdout, IReadOnlyList<ContainerLogLine> Stderr, long TotalLines, long TotalBytes)
{
    public static ContainerLogs Empty { get; } = new([], [], 0, 0);

    /// <summary>Lines printed but not kept.</summary>
    public long DroppedLines => TotalLines - Stdout.Count - Stderr.Count;

    /// <summary>The kept lines of both streams in the order they were printed.</summary>
    public IEnumerable<ContainerLogLine> Merged => Stdout.Concat(Stderr).OrderBy(l => l.Number);

    /// <summary>The kept lines of one stream, or of both merged, as text.</summary>
    public string Text(ContainerLogStream? stream = null) => string.Join('\n', (stream switch
    {
        ContainerLogStream.Stdout => Stdout,
        ContainerLogStream.Stderr => Stderr,
        _ => Merged,
    }).Select(l => l.Text));
}
