using System.Text;
using Kaapana.Core.Workflows.Docker;

namespace Kaapana.Core.Workflows.Engine;

/// <summary>
/// Writes a container's lines to its item's log file as they come (<c>stderr</c> lines marked), up to a size limit so a
/// flooding container cannot fill the disk; what is dropped is counted in a last line. Flushed at least twice a second
/// when something was written, so a live reader (the log endpoint's follow mode) sees lines promptly without a system
/// call per line during a flood.
/// </summary>
internal sealed class LogFileWriter : IAsyncDisposable
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(500);
    private readonly StreamWriter _writer;
    private readonly long _maxBytes;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Timer _flushTimer;
    private long _written;
    private long _droppedLines;
    private bool _dirty;

    public LogFileWriter(string path, long maxBytes)
    {
        _maxBytes = maxBytes;
        _writer = new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.Asynchronous), new UTF8Encoding(false));
        _flushTimer = new Timer(_ => _ = FlushIfDirtyAsync(), null, FlushInterval, FlushInterval);
    }

    public ValueTask WriteAsync(ContainerLogLine line) =>
        line.Stream == ContainerLogStream.Stderr ? WriteLineAsync("stderr: " + line.Text) : WriteLineAsync(line.Text);

    public async ValueTask WriteNoteAsync(string note)
    {
        await WriteLineAsync($"[kaapana {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z] {note}", force: true);
        await FlushIfDirtyAsync();
    }

    private async ValueTask WriteLineAsync(string text, bool force = false)
    {
        await _lock.WaitAsync();
        try
        {
            var bytes = Encoding.UTF8.GetByteCount(text) + 1;
            if (!force && _written + bytes > _maxBytes)
            {
                _droppedLines++;
                return;
            }
            _written += bytes;
            await _writer.WriteLineAsync(text);
            _dirty = true;
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task FlushIfDirtyAsync()
    {
        if (!_dirty || !await _lock.WaitAsync(0)) return;
        try
        {
            if (_dirty)
            {
                await _writer.FlushAsync();
                _dirty = false;
            }
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _flushTimer.DisposeAsync();
        await _lock.WaitAsync();
        try
        {
            if (_droppedLines > 0) await _writer.WriteLineAsync($"[kaapana] log file limit of {_maxBytes} bytes reached: {_droppedLines} more lines not written");
            await _writer.DisposeAsync();
        }
        finally
        {
            _lock.Release();
        }
    }
}
