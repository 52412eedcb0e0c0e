namespace Kaapana.Server.DicomWeb;

public static class StowApi
{
    public static IServiceCollection AddStow(this IServiceCollection services) => services;

    public static RouteGroupBuilder MapStow(this RouteGroupBuilder group) => group;
}
