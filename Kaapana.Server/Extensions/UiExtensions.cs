using Kaapana.Core.Access;
using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Retrieve;
using Kaapana.Core.Archive.Thumbnails;
using Kaapana.Web;
using Kaapana.Web.State;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Net.Http.Headers;
using MudBlazor.Services;

namespace Kaapana.Server.Extensions;

public static class UiExtensions
{
    /// <summary>
    /// The researcher's UI (Kaapana.Web, Blazor interactive server with MudBlazor): browse, series detail, dashboard, and the
    /// query and thumbnail services behind them. Thumbnails are made when a series completes.
    /// </summary>
    public static IHostApplicationBuilder AddKaapanaUi(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.TryAddSingleton<IInstanceRetrieval, InstanceRetrieval>();
        services.AddSingleton<IBrowseQueries, BrowseQueries>();
        services.AddSingleton<IDashboardQueries, DashboardQueries>();
        services.AddSingleton<ISeriesDetailQueries, SeriesDetailQueries>();
        services.AddSingleton<SeriesDeletion>();
        services.AddSingleton<ThumbnailCache>();
        services.AddSingleton<ThumbnailGenerator>();
        services.AddHostedService(sp => sp.GetRequiredService<ThumbnailGenerator>());
        services.AddScoped<CurrentProject>();
        return builder;
    }

    /// <summary>Pages at <c>/</c>, <c>/browse</c>, <c>/dashboard</c>, <c>/series/{uid}</c>; thumbnails at <c>/api/series/{uid}/thumbnail</c>.</summary>
    public static WebApplication MapKaapanaUi(this WebApplication app)
    {
        app.UseAntiforgery();
        // Framework scripts, MudBlazor and our CSS: the sign-in page needs them before anyone is signed in, and none is private.
        app.MapStaticAssets().AllowAnonymous();
        app.MapGet("/api/series/{uid}/thumbnail", GetThumbnail).WithName("SeriesThumbnail");
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>A series the caller may not read is answered as one that does not exist (and neither answer repeats the UID).</summary>
    private static async Task<IResult> GetThumbnail(string uid, ThumbnailCache cache, ICurrentCaller caller, IAccessControl access, HttpContext http,
        CancellationToken ct)
    {
        if (!ThumbnailCache.IsUid(uid)) return TypedResults.Problem("Not a UID: digits and dots, at most 64 characters.", statusCode: StatusCodes.Status400BadRequest);
        var unknown = TypedResults.Problem("There is no such series.", statusCode: StatusCodes.Status404NotFound);
        if (!await access.CanSeriesAsync(await caller.GetAsync(ct), uid, ProjectPermission.Read, ct)) return unknown;
        var result = await cache.GetAsync(uid, ct);
        if (result.Path is null)
        {
            return result.Missing == ThumbnailMissing.NotAnImage
                ? TypedResults.Problem("The series has no image to show.", statusCode: StatusCodes.Status404NotFound)
                : unknown;
        }
        var info = new FileInfo(result.Path);
        // Revalidated after a minute: a late instance makes a new thumbnail, and the ETag (write time) says whether it changed.
        http.Response.Headers.CacheControl = "private, max-age=60";
        var etag = new EntityTagHeaderValue($"\"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}\"");
        return TypedResults.PhysicalFile(result.Path, "image/png", lastModified: info.LastWriteTimeUtc, entityTag: etag);
    }
}
