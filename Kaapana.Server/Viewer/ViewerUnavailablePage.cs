using System.Net;

namespace Kaapana.Server.Viewer;

/// <summary>What <c>/viewer</c> answers while the viewer is not there: a short page saying why (503, or 404 when switched off).</summary>
public static class ViewerUnavailablePage
{
    public static IResult For(ViewerState state, HttpRequest request)
    {
        (int status, string title, bool refresh) = state.Status switch
        {
            ViewerStatus.Disabled => (StatusCodes.Status404NotFound, "The viewer is switched off", false),
            ViewerStatus.Failed => (StatusCodes.Status503ServiceUnavailable, "The viewer could not be installed", state.NextAttempt is not null),
            _ => (StatusCodes.Status503ServiceUnavailable, "The viewer is being installed", true),
        };
        string message = state.Message.TrimEnd('.', ' ') + ".";
        string detail = state.Status switch
        {
            ViewerStatus.Disabled => "Kaapana:Viewer:Enabled is false in this server's configuration.",
            ViewerStatus.Failed when state.NextAttempt is { } next => $"{message} The server tries again at {next:u}.",
            ViewerStatus.Failed => $"{message} The server tries again at its next start.",
            _ => $"{message} This page reloads by itself.",
        };

        var headers = request.HttpContext.Response.Headers;
        headers.CacheControl = "no-store";
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            int retry = state.NextAttempt is { } at ? (int)Math.Clamp((at - DateTimeOffset.UtcNow).TotalSeconds, 5, 86_400) : 15;
            headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (!request.Headers.Accept.Any(a => a?.Contains("text/html", StringComparison.OrdinalIgnoreCase) == true))
        {
            return Results.Text($"{title}. {detail}\n", "text/plain; charset=utf-8", statusCode: status);
        }

        string e(string s) => WebUtility.HtmlEncode(s);
        string html = $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{e(title)} – Kaapana</title>
            {(refresh ? "<meta http-equiv=\"refresh\" content=\"10\">" : "")}
            <style>body{"{"}font-family:system-ui,sans-serif;max-width:46rem;margin:4rem auto;padding:0 1rem;line-height:1.5{"}"}</style>
            </head><body>
            <h1>{e(title)}</h1>
            <p id="viewer-status" data-status="{state.Status}">{e(detail)}</p>
            <p>OHIF viewer version {e(state.Version)}. The rest of Kaapana works meanwhile: <a href="/">home</a>.</p>
            </body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", statusCode: status);
    }
}
