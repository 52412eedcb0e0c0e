using Kaapana.Server.Viewer;

namespace Kaapana.Server.Infrastructure;

/// <summary>
/// Browser hardening headers on every response (pages, APIs, DICOMweb, the viewer, errors and 401/429 answers alike), set
/// just before the headers go out so that nothing later in the pipeline drops them:
/// no MIME sniffing, no referrer to other sites (viewer URLs carry study UIDs), framing by this site only, HSTS on HTTPS,
/// and a Content-Security-Policy. The UI's policy allows scripts from this site only; inline styles are allowed because
/// MudBlazor and Blazor set style attributes. OHIF under <c>/viewer</c> gets a looser one: its index.html has inline
/// scripts, and its image codecs run as WebAssembly and blob: workers.
/// </summary>
public static class SecurityHeaders
{
    public const string AppPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";

    public const string ViewerPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval'; worker-src 'self' blob:; " +
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' data: blob:; " +
        "media-src 'self' data: blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";

    /// <summary>One year; sent only over HTTPS (RFC 6797 §7.2: ignored over plain HTTP, and it would pin a test server to HTTPS).</summary>
    public const string StrictTransportSecurity = "max-age=31536000";

    /// <summary>First in the pipeline, so every answer gets the headers.</summary>
    public static IApplicationBuilder UseKaapanaSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(static state =>
        {
            Apply((HttpContext)state);
            return Task.CompletedTask;
        }, context);
        return next(context);
    });

    private static void Apply(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        headers.XFrameOptions = "SAMEORIGIN";
        // Replaces the frame-ancestors-only policy Blazor's interactive endpoints set; ours carries the same frame-ancestors.
        headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments(ViewerExtensions.BasePath) ? ViewerPolicy : AppPolicy;
        if (context.Request.IsHttps) headers.StrictTransportSecurity = StrictTransportSecurity;
    }
}
