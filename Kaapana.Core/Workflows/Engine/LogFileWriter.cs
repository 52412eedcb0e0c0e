using System.Text;
using Kaapana.Core.Workflows.Docker;

namespace Kaapana.Core.Workflows.Engine;

/// <summary>
/// Writes a container's lines to its item's log file as they come (<c>stderr</c> lines marked), up to a size limit so a
/// flooding container cannot fill the disk; what is dropped is counted in a last line.
/// </summary>
internal sealed class LogFileWriter(string path, long maxBytes) : IAsyncDisposable
{
    private readonly StreamWriter _writer = new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.Asynchronous), new UTF8Encoding(false));
    private long _written;
    private long _droppedLines;

    public ValueTask WriteAsync(ContainerLogLine line) =>
        line.Stream == ContainerLogStream.Stderr ? WriteLineAsync("stderr: " + line.Text) : WriteLineAsync(line.Text);

    public ValueTask WriteNoteAsync(string note) => WriteLineAsync($"[kaapana {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z] {note}", force: true);

    private async ValueTask WriteLineAsync(string text, bool force = false)
    {
        if (!force && _written + text.Length + 1 > maxBytes)
        {
            _droppedLines++;
            return;
        }
        _written += Encoding.UTF8.GetByteCount(text) + 1;
        await _writer.WriteLineAsync(text);
    }

    public async ValueTask DisposeAsync()
    {
        if (_droppedLines > 0) await _writer.WriteLineAsync($"[kaapana] log file limit of {maxBytes} bytes reached: {_droppedLines} more lines not written");
        await _writer.DisposeAsync();
    }
}
