namespace Kaapana.Server.DicomWeb;

/// <summary>DICOMweb (PS3.18) at <see cref="BasePath"/>: QIDO-RS, WADO-RS and STOW-RS, answered from the archive.</summary>
public static class DicomWebExtensions
{
    public const string BasePath = "/dicomweb";

    public static IHostApplicationBuilder AddKaapanaDicomWeb(this IHostApplicationBuilder builder)
    {
        builder.Services.AddQido();
        builder.Services.AddWado();
        builder.Services.AddStow();
        return builder;
    }

    public static IEndpointRouteBuilder MapKaapanaDicomWeb(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(BasePath).WithTags("DICOMweb");
        group.MapQido();
        group.MapWado();
        group.MapStow();
        return app;
    }
}
