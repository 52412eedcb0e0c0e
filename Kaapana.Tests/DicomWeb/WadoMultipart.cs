using System.Net.Http.Headers;
using System.Text;

namespace Kaapana.Tests.DicomWeb;

/// <summary>One body part of a multipart/related response: its headers and bytes.</summary>
public sealed record WadoPart(IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string ContentType => Headers.TryGetValue("content-type", out var v) ? v : "";

    /// <summary>The transfer-syntax parameter of the part's Content-Type, or null.</summary>
    public string? TransferSyntax =>
        MediaTypeHeaderValue.TryParse(ContentType, out var m) ? m.Parameters.FirstOrDefault(p => p.Name == "transfer-syntax")?.Value?.Trim('"') : null;

    public string MediaType => MediaTypeHeaderValue.TryParse(ContentType, out var m) ? m.MediaType ?? "" : "";
}

/// <summary>
/// A multipart/related parser of its own for the tests (RFC 2046 5.1): split at the boundary taken from the response
/// Content-Type, headers up to the blank line. Independent of the server's writer, so a framing mistake there shows here.
/// </summary>
public static class WadoMultipart
{
    public static async Task<(MediaTypeHeaderValue ContentType, List<WadoPart> Parts)> ReadAsync(HttpResponseMessage response)
    {
        var ct = response.Content.Headers.ContentType ?? throw new InvalidOperationException("The response has no Content-Type.");
        Assert.Equal("multipart/related", ct.MediaType);
        var boundary = ct.Parameters.Single(p => p.Name == "boundary").Value!.Trim('"');
        return (ct, Parse(await response.Content.ReadAsByteArrayAsync(), boundary));
    }

    public static string? Parameter(MediaTypeHeaderValue ct, string name) => ct.Parameters.FirstOrDefault(p => p.Name == name)?.Value?.Trim('"');

    public static List<WadoPart> Parse(byte[] body, string boundary)
    {
        var delimiter = Encoding.ASCII.GetBytes("--" + boundary);
        var parts = new List<WadoPart>();
        int pos = IndexOf(body, delimiter, 0);
        Assert.True(pos == 0, "The body must start with the first boundary delimiter.");
        while (true)
        {
            pos += delimiter.Length;
            if (body.AsSpan(pos).StartsWith("--"u8)) break; // close delimiter
            Assert.True(body.AsSpan(pos).StartsWith("\r\n"u8), "A boundary line must end in CRLF.");
            pos += 2;
            int headerEnd = IndexOf(body, "\r\n\r\n"u8.ToArray(), pos);
            Assert.True(headerEnd >= 0, "A part has no end of headers.");
            var headers = Encoding.ASCII.GetString(body, pos, headerEnd - pos).Split("\r\n")
                .Select(l => l.Split(':', 2)).ToDictionary(kv => kv[0].Trim().ToLowerInvariant(), kv => kv[1].Trim());
            int start = headerEnd + 4;
            int next = IndexOf(body, [.. "\r\n"u8, .. delimiter], start);
            Assert.True(next >= 0, "A part is not followed by a boundary.");
            var content = body[start..next];
            if (headers.TryGetValue("content-length", out var len)) Assert.Equal(long.Parse(len), content.LongLength);
            parts.Add(new WadoPart(headers, content));
            pos = next + 2;
        }
        return parts;
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int from)
    {
        int i = haystack.AsSpan(from).IndexOf(needle);
        return i < 0 ? -1 : from + i;
    }
}
