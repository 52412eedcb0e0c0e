using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kaapana.Dicom.Network;

/// <summary>
/// DI registration. The server resolves handlers from the container it is built from (one scope per association); start
/// and stop it from the host (e.g. a hosted service calling <see cref="DicomServer.StartAsync"/> / <see cref="DicomServer.StopAsync"/>).
/// </summary>
public static class DicomNetworkServiceCollectionExtensions
{
    /// <summary>Registers <paramref name="options"/> and a singleton <see cref="DicomServer"/> using this container's handlers and logging.</summary>
    public static IServiceCollection AddDicomServer(this IServiceCollection services, DicomServerOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(sp => new DicomServer(sp.GetRequiredService<DicomServerOptions>(), sp,
            sp.GetService<ILoggerFactory>(), sp.GetService<DimseServiceRegistry>(), sp.GetService<TimeProvider>()));
        return services;
    }

    /// <summary>Registers <typeparamref name="THandler"/> (any constructor) as the C-STORE handler, one instance per association.</summary>
    public static IServiceCollection AddDicomStoreHandler<THandler>(this IServiceCollection services) where THandler : class, IStoreHandler =>
        services.AddScoped<IStoreHandler, THandler>();
}
