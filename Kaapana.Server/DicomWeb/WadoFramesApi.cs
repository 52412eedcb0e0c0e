using System.Globalization;
using Kaapana.Core.Access;
using Kaapana.Core.Archive.Retrieve;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Codecs;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// WADO-RS frames (PS3.18 10.4.1.1.3) and bulk data (10.4.1.1.5) of one instance. Frames go out native (decoded, Explicit VR
/// Little Endian, application/octet-stream) unless the client accepts the stored syntax (<c>transfer-syntax=*</c>, as OHIF
/// asks), in which case the stored compressed bytes go out with their image media type. The file is parsed with pixel data
/// left on disk; only the requested frames are read.
/// </summary>
public static class WadoFramesApi
{
    public static async Task<IResult> RetrieveFrames(string study, string series, string instance, string frames, HttpContext context,
        IInstanceRetrieval retrieval, ICurrentCaller caller, StudyOpenAudit opens, CancellationToken ct)
    {
        var numbers = ParseFrameList(frames);
        if (numbers is null)
            return WadoProblems.BadRequest($"'{frames}' is not a frame list: give frame numbers from 1, separated by commas (e.g. 1,3,5).");
        var (who, scope) = await WadoApi.ReadScopeAsync(caller, new RetrieveScope(study, series, instance), ct);
        var found = await retrieval.FindAsync(scope, ct);
        if (!found.Found) return WadoProblems.NotFound(found.NotFound!);
        opens.Opened(who, scope.StudyInstanceUID, "frames", context);
        var stored = found.Instances[0];
        var representation = WadoNegotiation.ForFrames(context.Request.Headers.Accept, DicomTransferSyntax.Lookup(stored.TransferSyntaxUID));
        if (representation is null)
            return WadoProblems.NotAcceptable(
                $"Frames of this instance (stored as {stored.TransferSyntaxUID}) are sent as multipart/related; type=\"application/octet-stream\" " +
                $"(native), with transfer-syntax=* as stored ({WadoNegotiation.FrameMediaType(DicomTransferSyntax.Lookup(stored.TransferSyntaxUID))}), " +
                "or in a syntax a codec here encodes.");
        return new WadoStreamResult((http, token) => WriteFramesAsync(http, retrieval, stored, numbers, representation, token));
    }

    /// <summary>1-based frame numbers in the order given; null when the list is malformed.</summary>
    public static int[]? ParseFrameList(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out result[i]) || result[i] < 1) return null;
        return result.Length == 0 ? null : result;
    }

    private static async Task WriteFramesAsync(HttpContext http, IInstanceRetrieval retrieval, StoredInstance stored, int[] numbers,
        FrameRepresentation representation, CancellationToken ct)
    {
        var file = retrieval.Read(stored);
        var pixelData = DicomPixelData.Create(file);
        var outOfRange = numbers.Where(n => n > pixelData.FrameCount).ToArray();
        if (outOfRange.Length > 0)
        {
            await WadoProblems.NotFound($"Frame {string.Join(", ", outOfRange)} is out of range: the instance has {pixelData.FrameCount} frame(s).").ExecuteAsync(http);
            return;
        }
        await WriteFramesAsync(http, pixelData, numbers, representation, ct);
    }

    /// <summary>Writes the frames; the first is converted before the status line goes out, so a codec failure is still a clean 4xx.</summary>
    internal static async Task WriteFramesAsync(HttpContext http, DicomPixelData pixelData, int[] numbers, FrameRepresentation representation, CancellationToken ct)
    {
        var first = Frame(pixelData, numbers[0] - 1, representation, out var syntax);
        var boundary = MultipartRelatedWriter.NewBoundary();
        http.Response.ContentType = MultipartRelatedWriter.ContentType(WadoNegotiation.FrameMediaType(syntax), boundary);
        var writer = new MultipartRelatedWriter(http.Response.Body, boundary);
        await writer.WritePartAsync(WadoNegotiation.FrameContentType(syntax), first, ct);
        foreach (var n in numbers.Skip(1))
        {
            var data = Frame(pixelData, n - 1, representation, out var s);
            await writer.WritePartAsync(WadoNegotiation.FrameContentType(s), data, ct);
        }
        await writer.CompleteAsync(ct);
    }

    /// <summary>One frame in the chosen representation, and the syntax it is in.</summary>
    private static ReadOnlyMemory<byte> Frame(DicomPixelData pixelData, int index, FrameRepresentation r, out DicomTransferSyntax syntax)
    {
        if (r.AsStored || pixelData.IsEncapsulated && r.Syntax.Uid == pixelData.TransferSyntax.Uid)
        {
            // Native frames come out of the reader little endian whatever the file's byte order.
            syntax = pixelData.IsEncapsulated ? pixelData.TransferSyntax : DicomTransferSyntax.ExplicitVRLittleEndian;
            return pixelData.GetFrame(index);
        }
        var decoded = DicomCodecs.Default.DecodeFrame(pixelData, index);
        if (!r.Syntax.IsEncapsulated)
        {
            syntax = DicomTransferSyntax.ExplicitVRLittleEndian;
            return decoded.Data.AsMemory(0, (int)decoded.Info.FrameLength);
        }
        syntax = r.Syntax;
        return DicomCodecs.Default.Encode(decoded.Data, decoded.Info, r.Syntax).Data;
    }

    public static async Task<IResult> RetrieveBulkData(string study, string series, string instance, string path, HttpContext context,
        IInstanceRetrieval retrieval, ICurrentCaller caller, StudyOpenAudit opens, CancellationToken ct)
    {
        var (who, scope) = await WadoApi.ReadScopeAsync(caller, new RetrieveScope(study, series, instance), ct);
        var found = await retrieval.FindAsync(scope, ct);
        if (!found.Found) return WadoProblems.NotFound(found.NotFound!);
        opens.Opened(who, scope.StudyInstanceUID, "bulkdata", context);
        var stored = found.Instances[0];
        var pixelPath = DicomTags.PixelData.Value.ToString("X8", CultureInfo.InvariantCulture);
        if (string.Equals(path.Trim('/'), pixelPath, StringComparison.OrdinalIgnoreCase))
        {
            // Pixel data by reference: every frame, negotiated as for the frames resource.
            var representation = WadoNegotiation.ForFrames(context.Request.Headers.Accept, DicomTransferSyntax.Lookup(stored.TransferSyntaxUID));
            if (representation is null) return WadoProblems.NotAcceptable("Pixel data is sent as multipart/related frames; see the frames resource.");
            return new WadoStreamResult(async (http, token) =>
            {
                var pixelData = DicomPixelData.Create(retrieval.Read(stored));
                await WriteFramesAsync(http, pixelData, Enumerable.Range(1, pixelData.FrameCount).ToArray(), representation, token);
            });
        }
        if (!WadoNegotiation.AcceptsOctetStreamParts(context.Request.Headers.Accept))
            return WadoProblems.NotAcceptable("Bulk data is sent as multipart/related; type=\"application/octet-stream\".");
        return new WadoStreamResult(async (http, token) =>
        {
            var file = retrieval.Read(stored, largeValueThreshold: WadoMetadataWriter.InlineLimit);
            if (WadoMetadataWriter.Resolve(file.Dataset, path) is not DicomValueElement value)
            {
                await WadoProblems.NotFound($"The instance has no bulk data value at '{path}'.").ExecuteAsync(http);
                return;
            }
            var boundary = MultipartRelatedWriter.NewBoundary();
            http.Response.ContentType = MultipartRelatedWriter.ContentType(WadoNegotiation.OctetStream, boundary);
            var writer = new MultipartRelatedWriter(http.Response.Body, boundary);
            // Values are little endian in memory and on the wire (PS3.18 8.7.3.1), whatever the file's byte order.
            await using (var s = value.Buffer.OpenRead())
                await writer.WritePartAsync(WadoNegotiation.OctetStream, s, value.Length, token);
            await writer.CompleteAsync(token);
        });
    }
}
