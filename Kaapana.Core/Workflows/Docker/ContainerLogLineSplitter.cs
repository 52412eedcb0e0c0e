using System.Text;

namespace Kaapana.Core.Workflows.Docker;

/// <summary>
/// Cuts the byte chunks of one output stream into lines: at <c>\n</c> (a trailing <c>\r</c> dropped), or every
/// <c>maxLineBytes</c> bytes when a line runs longer. Invalid UTF-8 becomes U+FFFD rather than failing the run.
/// </summary>
internal sealed class ContainerLogLineSplitter(int maxLineBytes)
{
    private readonly byte[] _pending = new byte[maxLineBytes];
    private int _pendingLength;

    /// <summary>Appends a chunk; calls <paramref name="onLine"/> with each completed line's text and its raw size.</summary>
    public void Append(ReadOnlySpan<byte> chunk, Action<string, int> onLine)
    {
        while (!chunk.IsEmpty)
        {
            var newline = chunk.IndexOf((byte)'\n');
            var take = newline < 0 ? chunk.Length : newline;
            var room = _pending.Length - _pendingLength;
            if (take > room)
            {
                // The line overflows the buffer: emit what fills it as one piece and go on with the rest.
                chunk[..room].CopyTo(_pending.AsSpan(_pendingLength));
                _pendingLength += room;
                chunk = chunk[room..];
                Emit(onLine, 0);
                continue;
            }
            chunk[..take].CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += take;
            if (newline < 0)
            {
                return;
            }
            chunk = chunk[(newline + 1)..];
            Emit(onLine, 1);
        }
    }

    /// <summary>Emits an unfinished last line, if any (the stream ended without a newline).</summary>
    public void Flush(Action<string, int> onLine)
    {
        if (_pendingLength > 0)
        {
            Emit(onLine, 0);
        }
    }

    private void Emit(Action<string, int> onLine, int newlineBytes)
    {
        var length = _pendingLength;
        var text = length > 0 && _pending[length - 1] == (byte)'\r' ? length - 1 : length;
        onLine(Encoding.UTF8.GetString(_pending, 0, text), length + newlineBytes);
        _pendingLength = 0;
    }
}
