namespace Kaapana.Core.Workflows.Docker;

/// <summary>
/// Keeps the last lines of each stream within a line and a byte budget while a container runs, so a flooding container
/// costs the server bounded memory however much it prints. Not thread-safe: one log pump feeds it.
/// </summary>
internal sealed class ContainerLogTail(int maxLines, int maxBytes)
{
    private readonly Queue<ContainerLogLine>[] _lines = [new(), new()];
    private readonly long[] _bytes = new long[2];
    private long _totalLines;
    private long _totalBytes;

    /// <param name="rawBytes">The line's size as printed, newline included, for the totals.</param>
    public void Add(ContainerLogLine line, int rawBytes)
    {
        _totalLines++;
        _totalBytes += rawBytes;
        var i = (int)line.Stream;
        var queue = _lines[i];
        queue.Enqueue(line);
        _bytes[i] += Size(line);
        while (queue.Count > maxLines || (_bytes[i] > maxBytes && queue.Count > 1))
        {
            _bytes[i] -= Size(queue.Dequeue());
        }
    }

    /// <summary>Bytes printed that did not make a line (a partial line at the end counts as a line when flushed).</summary>
    public void CountBytes(int rawBytes) => _totalBytes += rawBytes;

    public ContainerLogs Snapshot() => new([.. _lines[0]], [.. _lines[1]], _totalLines, _totalBytes);

    // UTF-16 size is what the kept strings cost; close enough to the budget's intent without re-encoding.
    private static long Size(ContainerLogLine line) => line.Text.Length * sizeof(char);
}
