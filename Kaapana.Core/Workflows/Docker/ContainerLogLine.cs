namespace Kaapana.Core.Workflows.Docker;

public enum ContainerLogStream
{
    Stdout,
    Stderr,
}

/// <summary>One line a container printed (without its newline).</summary>
/// <param name="Number">Position among all lines of the run, both streams counted, from 0: orders a merged view.</param>
public sealed record ContainerLogLine(ContainerLogStream Stream, long Number, string Text);
