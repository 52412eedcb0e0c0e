using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Microsoft.AspNetCore.Http.Features;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// A WADO-RS answer written straight to the response (unbuffered). Failures before the first byte become a 4xx with a
/// message (never a 500); after it the connection is aborted, so a client never takes a cut-short body for a whole one.
/// </summary>
public sealed class WadoStreamResult(Func<HttpContext, CancellationToken, Task> write) : IResult
{
    public async Task ExecuteAsync(HttpContext context)
    {
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var ct = context.RequestAborted;
        try
        {
            await write(context, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && WadoProblems.From(ex) is { } problem)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Kaapana.DicomWeb.Wado");
            if (context.Response.HasStarted)
            {
                logger.LogWarning(ex, "WADO-RS response {Path} aborted after it had started", context.Request.Path);
                context.Abort();
                return;
            }
            logger.LogInformation("WADO-RS {Path}: {Message}", context.Request.Path, ex.Message);
            await problem.ExecuteAsync(context);
        }
    }
}

public static class WadoProblems
{
    public static IResult NotFound(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static IResult BadRequest(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");

    public static IResult NotAcceptable(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status406NotAcceptable, title: "Not acceptable");

    /// <summary>The 4xx an exception from reading, decoding or rendering a stored instance stands for; null for others.</summary>
    public static IResult? From(Exception ex) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException =>
            NotFound("The instance is in the index but its file is missing from the archive (run the consistency check)."),
        DicomCodecException => TypedResults.Problem($"The stored pixel data cannot be converted: {ex.Message}",
            statusCode: StatusCodes.Status422UnprocessableEntity, title: "Cannot convert"),
        DicomPixelDataException => BadRequest($"The instance has no usable pixel data: {ex.Message}"),
        DicomException => TypedResults.Problem($"The stored instance cannot be read: {ex.Message}",
            statusCode: StatusCodes.Status422UnprocessableEntity, title: "Unreadable instance"),
        IOException => TypedResults.Problem($"The stored instance cannot be read: {ex.Message}",
            statusCode: StatusCodes.Status422UnprocessableEntity, title: "Unreadable instance"),
        _ => null,
    };
}
