using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Codecs;
using Kaapana.Dicom.Imaging.Rendering;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Kaapana.Server.DicomWeb;

/// <summary>What a retrieve of instances sends: the stored file unchanged (<see cref="Syntax"/> null) or the file in <see cref="Syntax"/>.</summary>
public sealed record InstanceRepresentation(DicomTransferSyntax? Syntax);

/// <summary>
/// What a frames (or pixel data bulkdata) request sends: the stored frame bytes (<see cref="AsStored"/>: compressed ones with
/// their image media type), or frames in <see cref="Syntax"/> (Explicit VR Little Endian = native, decoded frames).
/// </summary>
public sealed record FrameRepresentation(bool AsStored, DicomTransferSyntax Syntax);

/// <summary>
/// Accept header negotiation for WADO-RS (PS3.18 8.7): media ranges in order of quality, each with its <c>type</c> and
/// <c>transfer-syntax</c> parameters; the first range we can satisfy wins. Null means nothing acceptable (406).
/// </summary>
public static class WadoNegotiation
{
    public const string DicomMediaType = "application/dicom";
    public const string OctetStream = "application/octet-stream";
    public const string MultipartRelated = "multipart/related";

    /// <summary>
    /// Encapsulated syntaxes and the media type of their frames (PS3.18 Table 8.7.3-2). RLE was image/x-dicom-rle before
    /// the registered image/dicom-rle; both are accepted, the registered one is sent.
    /// </summary>
    private static readonly Dictionary<string, string> FrameMediaTypes = new(StringComparer.Ordinal)
    {
        [DicomTransferSyntax.JPEGBaseline8Bit.Uid] = "image/jpeg",
        [DicomTransferSyntax.JPEGExtended12Bit.Uid] = "image/jpeg",
        [DicomTransferSyntax.JPEGLossless.Uid] = "image/jpeg",
        [DicomTransferSyntax.JPEGLosslessSV1.Uid] = "image/jpeg",
        [DicomTransferSyntax.JPEGLSLossless.Uid] = "image/jls",
        [DicomTransferSyntax.JPEGLSNearLossless.Uid] = "image/jls",
        [DicomTransferSyntax.JPEG2000Lossless.Uid] = "image/jp2",
        [DicomTransferSyntax.JPEG2000.Uid] = "image/jp2",
        ["1.2.840.10008.1.2.4.92"] = "image/jpx",
        ["1.2.840.10008.1.2.4.93"] = "image/jpx",
        [DicomTransferSyntax.RLELossless.Uid] = "image/dicom-rle",
        ["1.2.840.10008.1.2.4.100"] = "video/mpeg",
        ["1.2.840.10008.1.2.4.101"] = "video/mpeg",
        ["1.2.840.10008.1.2.4.102"] = "video/mp4",
        ["1.2.840.10008.1.2.4.103"] = "video/mp4",
        ["1.2.840.10008.1.2.4.104"] = "video/mp4",
        ["1.2.840.10008.1.2.4.105"] = "video/mp4",
        ["1.2.840.10008.1.2.4.106"] = "video/mp4",
    };

    /// <summary>The default syntax of an image media type when the client names none (PS3.18 Table 8.7.3-2).</summary>
    private static readonly Dictionary<string, string> DefaultSyntaxOf = new(StringComparer.OrdinalIgnoreCase)
    {
        ["image/jpeg"] = DicomTransferSyntax.JPEGBaseline8Bit.Uid,
        ["image/jls"] = DicomTransferSyntax.JPEGLSLossless.Uid,
        ["image/jp2"] = DicomTransferSyntax.JPEG2000Lossless.Uid,
        ["image/dicom-rle"] = DicomTransferSyntax.RLELossless.Uid,
        ["image/x-dicom-rle"] = DicomTransferSyntax.RLELossless.Uid,
    };

    /// <summary>The Content-Type of one frame in <paramref name="syntax"/> (with its transfer-syntax parameter).</summary>
    public static string FrameContentType(DicomTransferSyntax syntax) =>
        $"{FrameMediaType(syntax)}; transfer-syntax={syntax.Uid}";

    public static string FrameMediaType(DicomTransferSyntax syntax) =>
        syntax.IsEncapsulated ? FrameMediaTypes.GetValueOrDefault(syntax.Uid, OctetStream) : OctetStream;

    public static string DicomContentType(string syntaxUid) => $"{DicomMediaType}; transfer-syntax={syntaxUid}";

    private sealed record Range(string MediaType, string? Type, string? TransferSyntax);

    /// <summary>Parsed media ranges, best first; null when an Accept header is present but unreadable.</summary>
    private static List<Range>? Ranges(StringValues accept)
    {
        if (StringValues.IsNullOrEmpty(accept)) return [new Range("*/*", null, null)];
        if (!LenientMediaType.TryParseList(accept, out var list) || list.Count == 0) return null;
        string? Param(MediaTypeHeaderValue m, string name) =>
            m.Parameters.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } p
                ? HeaderUtilities.RemoveQuotes(p.Value).Value?.Trim() : null;
        return list
            .Where(m => (m.Quality ?? 1) > 0)
            .OrderByDescending(m => m.Quality ?? 1) // stable: equal qualities keep the client's order
            .Select(m => new Range(m.MediaType.Value!.Trim().ToLowerInvariant(), Param(m, "type")?.ToLowerInvariant(), Param(m, "transfer-syntax")))
            .ToList();
    }

    private static bool IsAnyMultipart(Range r) => r.MediaType is "*/*" or "multipart/*" || r.MediaType == MultipartRelated && r.Type is null or "*/*";

    /// <summary>Image layouts an encoder is asked about to tell whether it encodes at all (8 and 16-bit grey, 8-bit RGB).</summary>
    private static readonly PixelDataInfo[] TypicalImages =
    [
        new() { BitsAllocated = 16, BitsStored = 16, HighBit = 15 },
        new() { BitsAllocated = 8, BitsStored = 8, HighBit = 7 },
        new() { BitsAllocated = 8, BitsStored = 8, HighBit = 7, SamplesPerPixel = 3, PhotometricInterpretation = PhotometricInterpretation.Rgb },
    ];

    /// <summary>The compressed syntaxes a registered codec encodes (decode-only codecs, e.g. JPEG-LS here, are left out).</summary>
    public static IReadOnlyList<DicomTransferSyntax> Encodable { get; } = DicomCodecs.Default.SupportedTransferSyntaxes
        .Where(ts => DicomCodecs.Default.TryGetCodec(ts, out var c) && TypicalImages.Any(i => c.CanEncode(ts, i))).ToList();

    /// <summary>Syntaxes we can write a whole instance or a frame in: the uncompressed ones and those a registered codec encodes.</summary>
    public static DicomTransferSyntax? Producible(string uid) =>
        DicomTransferSyntax.Uncompressed.FirstOrDefault(t => t.Uid == uid) ?? Encodable.FirstOrDefault(t => t.Uid == uid);

    /// <summary>Retrieve of studies, series, instances: <c>multipart/related; type="application/dicom"</c> (PS3.18 8.7.3.5.1).</summary>
    public static InstanceRepresentation? ForInstances(StringValues accept)
    {
        var ranges = Ranges(accept);
        if (ranges is null) return null;
        foreach (var r in ranges)
        {
            if (!(IsAnyMultipart(r) || r.MediaType == MultipartRelated && r.Type == DicomMediaType)) continue;
            switch (r.TransferSyntax)
            {
                case null or "":
                    return new InstanceRepresentation(DicomTransferSyntax.ExplicitVRLittleEndian);
                case "*":
                    return new InstanceRepresentation(null);
                default:
                    if (Producible(r.TransferSyntax) is { } ts) return new InstanceRepresentation(ts);
                    continue;
            }
        }
        return null;
    }

    /// <summary>Frames of an instance stored in <paramref name="stored"/> (PS3.18 8.7.3.5.2 and Table 8.7.3-2).</summary>
    public static FrameRepresentation? ForFrames(StringValues accept, DicomTransferSyntax stored)
    {
        var ranges = Ranges(accept);
        if (ranges is null) return null;
        var native = new FrameRepresentation(false, DicomTransferSyntax.ExplicitVRLittleEndian);
        var asStored = new FrameRepresentation(true, stored.IsEncapsulated ? stored : DicomTransferSyntax.ExplicitVRLittleEndian);
        foreach (var r in ranges)
        {
            if (IsAnyMultipart(r))
            {
                if (r.TransferSyntax == "*") return asStored;
                if (r.TransferSyntax is null or "" || r.TransferSyntax == DicomTransferSyntax.ExplicitVRLittleEndian.Uid) return native;
                if (Choose(r.TransferSyntax, stored) is { } any) return any;
                continue;
            }
            if (r.MediaType != MultipartRelated) continue;
            if (r.Type == OctetStream)
            {
                // Stored bytes on "*" (what OHIF asks for); the parts then say what they are.
                if (r.TransferSyntax == "*") return asStored;
                if (r.TransferSyntax is null or "" || r.TransferSyntax == DicomTransferSyntax.ExplicitVRLittleEndian.Uid) return native;
                continue;
            }
            if (r.Type is null || !DefaultSyntaxOf.ContainsKey(r.Type) && !FrameMediaTypes.ContainsValue(r.Type)) continue;
            bool storedHasType = stored.IsEncapsulated && SameImageType(FrameMediaType(stored), r.Type);
            if (r.TransferSyntax == "*" || r.TransferSyntax is null or "" && storedHasType)
            {
                if (storedHasType) return asStored;
                if (r.TransferSyntax == "*") continue;
            }
            var wanted = r.TransferSyntax is { Length: > 0 } t ? t : DefaultSyntaxOf.GetValueOrDefault(r.Type);
            if (wanted is null || !FrameMediaTypes.TryGetValue(wanted, out var mt) || !SameImageType(mt, r.Type)) continue;
            if (Choose(wanted, stored) is { } chosen) return chosen;
        }
        return null;
    }

    private static bool SameImageType(string a, string b) =>
        string.Equals(Normalise(a), Normalise(b), StringComparison.OrdinalIgnoreCase);

    private static string Normalise(string t) => t.Equals("image/x-dicom-rle", StringComparison.OrdinalIgnoreCase) ? "image/dicom-rle" : t;

    private static FrameRepresentation? Choose(string uid, DicomTransferSyntax stored)
    {
        if (uid == stored.Uid && stored.IsEncapsulated) return new FrameRepresentation(true, stored);
        if (uid == DicomTransferSyntax.ExplicitVRLittleEndian.Uid) return new FrameRepresentation(false, DicomTransferSyntax.ExplicitVRLittleEndian);
        var ts = Encodable.FirstOrDefault(t => t.Uid == uid);
        return ts is null ? null : new FrameRepresentation(false, ts);
    }

    /// <summary>Bulk data other than pixel data: <c>multipart/related; type="application/octet-stream"</c>.</summary>
    public static bool AcceptsOctetStreamParts(StringValues accept)
    {
        var ranges = Ranges(accept);
        return ranges is not null && ranges.Any(r => IsAnyMultipart(r) || r.MediaType == MultipartRelated && r.Type == OctetStream);
    }

    /// <summary>Rendered resources: image/jpeg (the default) or image/png (PS3.18 8.7.4 and Table 8.7.4-1).</summary>
    public static ImageFormat? ForRendered(StringValues accept)
    {
        var ranges = Ranges(accept);
        if (ranges is null) return null;
        foreach (var r in ranges)
        {
            switch (r.MediaType)
            {
                case "*/*" or "image/*" or "image/jpeg": return ImageFormat.Jpeg;
                case "image/png": return ImageFormat.Png;
            }
        }
        return null;
    }
}
