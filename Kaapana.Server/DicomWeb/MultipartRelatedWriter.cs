using System.Text;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// Writes a <c>multipart/related</c> body (RFC 2387, PS3.18 8.6.1.2) part by part straight to the response, so a study is
/// never held in memory: each part is copied from its source stream and flushed before the next one is opened.
/// </summary>
public sealed class MultipartRelatedWriter(Stream body, string boundary)
{
    private bool _wroteAny;

    public string Boundary { get; } = boundary;

    /// <summary>A boundary that cannot occur in DICOM data by chance (random, 32 hex digits).</summary>
    public static string NewBoundary() => "kaapana-" + Guid.NewGuid().ToString("N");

    /// <summary>The response Content-Type: <c>multipart/related; type="..."; boundary=...</c>.</summary>
    public static string ContentType(string partType, string boundary) => $"multipart/related; type=\"{partType}\"; boundary={boundary}";

    public async Task WritePartAsync(string contentType, Stream content, long? length, CancellationToken ct, string? location = null)
    {
        await WriteHeaderAsync(contentType, length, location, ct).ConfigureAwait(false);
        await content.CopyToAsync(body, 128 * 1024, ct).ConfigureAwait(false);
        await body.FlushAsync(ct).ConfigureAwait(false);
    }

    public async Task WritePartAsync(string contentType, ReadOnlyMemory<byte> content, CancellationToken ct, string? location = null)
    {
        await WriteHeaderAsync(contentType, content.Length, location, ct).ConfigureAwait(false);
        await body.WriteAsync(content, ct).ConfigureAwait(false);
        await body.FlushAsync(ct).ConfigureAwait(false);
    }

    private async Task WriteHeaderAsync(string contentType, long? length, string? location, CancellationToken ct)
    {
        var sb = new StringBuilder();
        // The CRLF before each delimiter belongs to the delimiter (RFC 2046 5.1.1), not to the previous part's content.
        if (_wroteAny) sb.Append("\r\n");
        sb.Append("--").Append(Boundary).Append("\r\n");
        sb.Append("Content-Type: ").Append(contentType).Append("\r\n");
        if (length is { } n) sb.Append("Content-Length: ").Append(n).Append("\r\n");
        if (location is not null) sb.Append("Content-Location: ").Append(location).Append("\r\n");
        sb.Append("\r\n");
        _wroteAny = true;
        await body.WriteAsync(Encoding.ASCII.GetBytes(sb.ToString()), ct).ConfigureAwait(false);
    }

    /// <summary>The close delimiter. A body without parts is still a valid (empty) multipart body.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        var end = (_wroteAny ? "\r\n" : "") + "--" + Boundary + "--\r\n";
        await body.WriteAsync(Encoding.ASCII.GetBytes(end), ct).ConfigureAwait(false);
        await body.FlushAsync(ct).ConfigureAwait(false);
    }
}
