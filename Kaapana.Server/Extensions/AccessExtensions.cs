using Kaapana.Core.Access;
using Kaapana.Server.Auth;

namespace Kaapana.Server.Extensions;

public static class AccessExtensions
{
    /// <summary>Project roles: the one access decision (<see cref="IAccessControl"/>), the caller of a request or circuit, membership management.</summary>
    public static IServiceCollection AddKaapanaAccess(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddSingleton<IAccessControl, AccessControl>();
        services.AddScoped<ICurrentCaller, CurrentCaller>();
        services.AddSingleton<ProjectMembers>();
        return services;
    }
}
