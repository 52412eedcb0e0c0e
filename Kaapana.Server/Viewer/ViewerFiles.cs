using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Kaapana.Server.Viewer;

/// <summary>
/// Serves the installed viewer: files as they are (or their pre-compressed <c>.gz</c>), client routes such as
/// <c>/viewer/viewer?StudyInstanceUIDs=…</c> answered with <c>index.html</c> (a single-page app), content-hashed assets cached
/// for a year, everything else revalidated on each load so an upgrade shows at once.
/// </summary>
public static partial class ViewerFiles
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = CreateContentTypes();

    public static IResult GetAppConfig(IOptions<ViewerOptions> options, HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-cache";
        return Results.Text(ViewerAppConfig.Create(options.Value, ViewerExtensions.BasePath, DicomWeb.DicomWebExtensions.BasePath),
            "text/javascript; charset=utf-8");
    }

    public static IResult GetFile(string? path, ViewerInstallState state, HttpContext context)
    {
        var current = state.Current;
        if (current is not { Status: ViewerStatus.Ready, Directory: { } root })
        {
            return ViewerUnavailablePage.For(current, context.Request);
        }

        if (Resolve(root, path) is { } file)
        {
            return Serve(file, current.Version, context);
        }

        // A browser navigating to a client route asks for HTML; a missing script, chunk or image must stay a 404
        // (index.html in its place would fail later with a confusing parse error).
        bool navigation = context.Request.Headers.Accept.Any(a => a?.Contains("text/html", StringComparison.OrdinalIgnoreCase) == true)
                          && !ContentTypes.TryGetContentType(path ?? "", out _);
        return navigation ? Serve(new FileInfo(Path.Combine(root, "index.html")), current.Version, context) : Results.NotFound();
    }

    /// <summary>The file under <paramref name="root"/> the path names, or null (missing, hidden, or outside the folder).</summary>
    private static FileInfo? Resolve(string root, string? path)
    {
        if (string.IsNullOrEmpty(path) || path.EndsWith('/'))
        {
            path += "index.html";
        }
        if (path.Contains('\0') || path.Contains('\\') || path.Split('/').Any(s => s is "" or "." or ".." || s.StartsWith('.')))
        {
            return null;
        }
        string full = Path.GetFullPath(Path.Combine(root, path));
        if (!full.StartsWith(Path.GetFullPath(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return null;
        }
        var file = new FileInfo(full);
        return file.Exists ? file : null;
    }

    private static IResult Serve(FileInfo file, string version, HttpContext context)
    {
        var response = context.Response;
        response.Headers.CacheControl = HashedName().IsMatch(file.Name) ? "public, max-age=31536000, immutable" : "no-cache";
        string contentType = ContentTypes.TryGetContentType(file.Name, out var type) ? type : "application/octet-stream";
        var gz = new FileInfo(file.FullName + ".gz");
        if (gz.Exists)
        {
            response.Headers.Vary = HeaderNames.AcceptEncoding;
            if (AcceptsGzip(context.Request))
            {
                response.Headers.ContentEncoding = "gzip";
                return Results.File(gz.FullName, contentType, lastModified: gz.LastWriteTimeUtc, entityTag: Tag(gz, version, "gz"));
            }
        }
        return Results.File(file.FullName, contentType, lastModified: file.LastWriteTimeUtc, entityTag: Tag(file, version, null),
            enableRangeProcessing: true);
    }

    private static EntityTagHeaderValue Tag(FileInfo file, string version, string? variant) =>
        new($"\"{version}-{file.Length.ToString("x", CultureInfo.InvariantCulture)}-{file.LastWriteTimeUtc.Ticks.ToString("x", CultureInfo.InvariantCulture)}{(variant is null ? "" : "-" + variant)}\"");

    private static bool AcceptsGzip(HttpRequest request)
    {
        foreach (var value in request.Headers.AcceptEncoding)
        {
            if (value is null)
            {
                continue;
            }
            foreach (var part in value.Split(','))
            {
                var coding = part.Split(';');
                if (coding[0].Trim().Equals("gzip", StringComparison.OrdinalIgnoreCase)
                    && !coding.Skip(1).Any(p => p.Replace(" ", "", StringComparison.Ordinal) is "q=0" or "q=0.0" or "q=0.00" or "q=0.000"))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>Names carrying a content hash (<c>app.bundle.0f6159c501addfe9.js</c>, <c>0ddf166f7a343eda.wasm</c>) never change.</summary>
    [GeneratedRegex(@"(^|\.)[0-9a-f]{16,}\.[a-z0-9]+$")]
    private static partial Regex HashedName();

    private static FileExtensionContentTypeProvider CreateContentTypes()
    {
        var provider = new FileExtensionContentTypeProvider();
        provider.Mappings[".js"] = "text/javascript; charset=utf-8";
        provider.Mappings[".mjs"] = "text/javascript; charset=utf-8";
        provider.Mappings[".css"] = "text/css; charset=utf-8";
        provider.Mappings[".html"] = "text/html; charset=utf-8";
        provider.Mappings[".json"] = "application/json; charset=utf-8";
        provider.Mappings[".wasm"] = "application/wasm";
        provider.Mappings[".map"] = "application/json; charset=utf-8";
        provider.Mappings[".webapp"] = "application/x-web-app-manifest+json";
        provider.Mappings[".woff2"] = "font/woff2";
        provider.Mappings[".svg"] = "image/svg+xml";
        return provider;
    }
}
