using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Web.State;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Web;

/// <summary>The caller of a component test: a fixed scope (the server resolves it from the circuit's user).</summary>
public sealed class FixedCaller(AccessScope scope) : ICurrentCaller
{
    public ValueTask<AccessScope> GetAsync(CancellationToken ct = default) => ValueTask.FromResult(scope);
}

public static class ComponentAccess
{
    /// <summary>
    /// Registers what pages need to know the caller: the real <see cref="AccessControl"/> over the test host's index, a fixed
    /// caller (site admin unless <paramref name="scope"/> says otherwise) and the circuit's <see cref="CurrentProject"/>.
    /// </summary>
    public static IServiceCollection AddCaller(this IServiceCollection services, IServiceProvider host, AccessScope? scope = null)
    {
        services.AddSingleton<IAccessControl>(new AccessControl(host.GetRequiredService<IDbContextFactory<KaapanaDbContext>>()));
        services.AddSingleton<ICurrentCaller>(new FixedCaller(scope ?? AccessScope.System));
        services.AddOptions();
        services.AddScoped<CurrentProject>();
        return services;
    }
}
