namespace Kaapana.Server.DicomWeb;

public static class WadoApi
{
    public static IServiceCollection AddWado(this IServiceCollection services) => services;

    public static RouteGroupBuilder MapWado(this RouteGroupBuilder group) => group;
}
