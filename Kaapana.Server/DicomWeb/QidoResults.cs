using System.Text.Json;
using Kaapana.Core.Archive.Query;
using Kaapana.Dicom;
using Kaapana.Dicom.Json;
using Kaapana.Dicom.Network.Query;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// A QIDO-RS answer: 200 with a DICOM JSON array (<c>[]</c> when nothing matched), written result by result as the page is
/// read from the index, never built whole. Warning headers (PS3.18 8.3.4) say when more results exist and which keys were
/// ignored; they are known before the first byte because the search finds the page's ids first.
/// </summary>
public sealed class QidoResults(QidoQuery query, IndexSearchResult result, string service) : IResult
{
    public const string MediaType = "application/dicom+json";
    private const int FlushThreshold = 32 * 1024;
    private const int FlushEvery = 64; // results, when the pipe cannot tell how much it holds

    private static readonly DicomJsonWriteOptions JsonOptions = new() { InlineBinaryThreshold = 0 };

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var ct = httpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = MediaType;
        response.Headers.CacheControl = "no-cache";
        if (result.HasMore) response.Headers.Append("Warning", $"299 {service}: \"There are additional results that can be requested\"");
        if (query.IgnoredKeys.Count > 0)
            response.Headers.Append("Warning", $"299 {service}: \"The following attributes are not supported as matching keys and were ignored: {string.Join(", ", query.IgnoredKeys)}\"");

        await response.StartAsync(ct).ConfigureAwait(false); // headers out now: results follow as they are read
        await using var writer = new Utf8JsonWriter(response.BodyWriter, DicomJsonWriter.CreateWriterOptions());
        writer.WriteStartArray();
        var pipe = response.BodyWriter;
        int sinceFlush = 0;
        await foreach (var candidate in result.Matches.WithCancellation(ct).ConfigureAwait(false))
        {
            var ds = query.Query.CreateResponse(candidate);
            ds.Remove(DicomTags.QueryRetrieveLevel);
            ds.Set(DicomTags.RetrieveURL, DicomVR.UR, query.Resource.RetrieveUrl(service, candidate));
            DicomJsonWriter.Write(writer, ds, JsonOptions);
            // Hand the result to the response pipe, and send once enough is waiting: nothing reaches the client before a flush.
            writer.Flush();
            if (++sinceFlush >= FlushEvery || (pipe.CanGetUnflushedBytes && pipe.UnflushedBytes >= FlushThreshold))
            {
                sinceFlush = 0;
                await pipe.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        writer.WriteEndArray();
        await writer.FlushAsync(ct).ConfigureAwait(false);
        await response.BodyWriter.FlushAsync(ct).ConfigureAwait(false);
    }
}
