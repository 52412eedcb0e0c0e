using Kaapana.Server.Apis;

namespace Kaapana.Server.Extensions;

public static class ApiExtensions
{
    /// <summary>The OpenAPI document (/openapi/v1.json) lets scripts and notebooks discover the REST API.</summary>
    public static IHostApplicationBuilder AddKaapanaApis(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi();
        return builder;
    }

    public static IEndpointRouteBuilder MapKaapanaApis(this IEndpointRouteBuilder app)
    {
        app.MapHealthApi();
        app.MapUploadsApi();
        app.MapArchiveApi();
        app.MapRemoteNodesApi();
        app.MapDicomAccessApi();
        app.MapAuditApi();
        app.MapEndpointsApi();
        app.MapTokensApi();
        app.MapOpenApi();
        return app;
    }
}
