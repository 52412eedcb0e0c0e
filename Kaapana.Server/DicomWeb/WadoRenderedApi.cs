using System.Globalization;
using Kaapana.Core.Access;
using Kaapana.Core.Archive.Retrieve;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Rendering;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// Rendered resources and thumbnails (PS3.18 10.4.1.1.4 and 10.4.1.1.6) at every level: an instance renders its first frame
/// (a frame resource the frame asked for), a series its middle instance, a study the middle instance of its first series.
/// image/jpeg unless the client accepts only image/png. Query: <c>window=center,width[,linear|linear-exact|sigmoid]</c>,
/// <c>viewport=vw,vh</c> (fit into, never enlarged), <c>quality=1..100</c> (JPEG).
/// </summary>
public static class WadoRenderedApi
{
    /// <summary>The box a thumbnail fits into when the client gives no viewport.</summary>
    public const int ThumbnailSize = 128;

    private sealed record Target(RetrieveScope Scope, int? Frame, bool Thumbnail);

    public static void Map(RouteGroupBuilder group, string study, string series, string instance)
    {
        foreach (var (suffix, thumbnail) in new[] { ("/rendered", false), ("/thumbnail", true) })
        {
            group.MapGet(study + suffix, (string study, HttpContext c, IInstanceRetrieval r, ICurrentCaller caller, StudyOpenAudit opens,
                CancellationToken ct) => Render(new Target(new RetrieveScope(study), null, thumbnail), c, r, caller, opens, ct));
            group.MapGet(series + suffix, (string study, string series, HttpContext c, IInstanceRetrieval r, ICurrentCaller caller, StudyOpenAudit opens,
                CancellationToken ct) => Render(new Target(new RetrieveScope(study, series), null, thumbnail), c, r, caller, opens, ct));
            group.MapGet(instance + suffix, (string study, string series, string instance, HttpContext c, IInstanceRetrieval r, ICurrentCaller caller,
                StudyOpenAudit opens, CancellationToken ct) => Render(new Target(new RetrieveScope(study, series, instance), null, thumbnail), c, r, caller, opens, ct));
            group.MapGet(instance + "/frames/{frames}" + suffix, (string study, string series, string instance, string frames, HttpContext c,
                IInstanceRetrieval r, ICurrentCaller caller, StudyOpenAudit opens, CancellationToken ct) =>
            {
                var list = WadoFramesApi.ParseFrameList(frames);
                if (list is not [var frame])
                    return Task.FromResult(WadoProblems.BadRequest($"'{frames}' is not one frame number (from 1); a rendered frame resource renders one frame."));
                return Render(new Target(new RetrieveScope(study, series, instance), frame, thumbnail), c, r, caller, opens, ct);
            });
        }
    }

    public sealed record RenderParameters(VoiWindow? Window, int? Width, int? Height, int Quality);

    /// <summary>Parses the query; the error text when a parameter is malformed.</summary>
    public static (RenderParameters? Parameters, string? Error) Parse(IQueryCollection query, bool thumbnail)
    {
        VoiWindow? window = null;
        if (query["window"].ToString() is { Length: > 0 } w)
        {
            var p = w.Split(',', StringSplitOptions.TrimEntries);
            if (p.Length is < 2 or > 3 || !double.TryParse(p[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var center)
                || !double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var width) || width <= 0)
                return (null, $"window='{w}': give center,width[,function] with a width above 0.");
            var function = p.Length == 3 ? p[2].ToLowerInvariant() switch
            {
                "linear" => VoiLutFunction.Linear,
                "linear-exact" or "linear_exact" => VoiLutFunction.LinearExact,
                "sigmoid" => VoiLutFunction.Sigmoid,
                _ => (VoiLutFunction?)null,
            } : VoiLutFunction.Linear;
            if (function is null) return (null, $"window function '{p[2]}' is not linear, linear-exact or sigmoid.");
            window = new VoiWindow(center, width, function.Value);
        }
        int? vw = thumbnail ? ThumbnailSize : null, vh = thumbnail ? ThumbnailSize : null;
        if (query["viewport"].ToString() is { Length: > 0 } v)
        {
            var p = v.Split(',', StringSplitOptions.TrimEntries);
            if (p.Length < 2 || !int.TryParse(p[0], NumberStyles.None, CultureInfo.InvariantCulture, out var a) || a < 1 || a > 8192
                || !int.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out var b) || b < 1 || b > 8192)
                return (null, $"viewport='{v}': give vw,vh, each 1 to 8192.");
            (vw, vh) = (a, b);
        }
        int quality = 90;
        if (query["quality"].ToString() is { Length: > 0 } q
            && (!int.TryParse(q, NumberStyles.None, CultureInfo.InvariantCulture, out quality) || quality is < 1 or > 100))
            return (null, $"quality='{q}': give 1 to 100.");
        return (new RenderParameters(window, vw, vh, quality), null);
    }

    /// <summary>A rendered image opens the study (audited, throttled); a thumbnail does not: study lists show many.</summary>
    private static async Task<IResult> Render(Target target, HttpContext context, IInstanceRetrieval retrieval, ICurrentCaller caller, StudyOpenAudit opens,
        CancellationToken ct)
    {
        var format = WadoNegotiation.ForRendered(context.Request.Headers.Accept);
        if (format is null) return WadoProblems.NotAcceptable("Rendered images are image/jpeg or image/png.");
        var (parameters, error) = Parse(context.Request.Query, target.Thumbnail);
        if (parameters is null) return WadoProblems.BadRequest(error!);
        var (who, scope) = await WadoApi.ReadScopeAsync(caller, target.Scope, ct);
        var found = await retrieval.FindAsync(scope, ct);
        if (!found.Found) return WadoProblems.NotFound(found.NotFound!);
        if (!target.Thumbnail) opens.Opened(who, scope.StudyInstanceUID, "rendered", context);
        var instance = Pick(found.Instances);
        if (instance is null) return WadoProblems.BadRequest("Nothing here has pixel data to render.");

        try
        {
            var pixelData = DicomPixelData.Create(retrieval.Read(instance));
            int frame = target.Frame is { } f ? f - 1 : target.Thumbnail ? (pixelData.FrameCount - 1) / 2 : 0;
            if (frame >= pixelData.FrameCount)
                return WadoProblems.NotFound($"Frame {frame + 1} is out of range: the instance has {pixelData.FrameCount} frame(s).");
            var image = DicomRenderer.Render(pixelData, new RenderOptions
            {
                Frame = frame,
                Window = parameters.Window,
                MaxWidth = parameters.Width,
                MaxHeight = parameters.Height,
            });
            var bytes = ImageEncoder.Encode(image, format.Value, pngZlibLevel: 1, jpegQuality: parameters.Quality);
            return TypedResults.File(bytes, format == ImageFormat.Png ? "image/png" : "image/jpeg");
        }
        catch (Exception ex) when (WadoProblems.From(ex) is { } problem)
        {
            return problem;
        }
    }

    /// <summary>One instance stands for a study or series: the middle image (by instance number) of the first series with images.</summary>
    private static StoredInstance? Pick(IReadOnlyList<StoredInstance> instances)
    {
        if (instances.Count == 1) return instances[0].Rows is null ? null : instances[0];
        var series = instances.Where(i => i.Rows is not null).GroupBy(i => i.SeriesInstanceUID).FirstOrDefault()?.ToList();
        return series is null ? null : series[(series.Count - 1) / 2];
    }
}
