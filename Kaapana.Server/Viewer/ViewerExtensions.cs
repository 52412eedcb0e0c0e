namespace Kaapana.Server.Viewer;

/// <summary>The OHIF viewer served at <see cref="BasePath"/>, reading this server's DICOMweb.</summary>
public static class ViewerExtensions
{
    public const string BasePath = "/viewer";

    public static IHostApplicationBuilder AddKaapanaViewer(this IHostApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapKaapanaViewer(this IEndpointRouteBuilder app) => app;
}
