namespace Kaapana.Server.DicomWeb;

public static class QidoApi
{
    public static IServiceCollection AddQido(this IServiceCollection services) => services;

    public static RouteGroupBuilder MapQido(this RouteGroupBuilder group) => group;
}
