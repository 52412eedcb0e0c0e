using Kaapana.Core.Access;
using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Maintenance;
using Kaapana.Core.Audit;
using Kaapana.Web.State;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Kaapana.Tests.Web;

/// <summary>The caller of a component test: a fixed scope (the server resolves it from the circuit's user).</summary>
public sealed class FixedCaller(AccessScope scope) : ICurrentCaller
{
    public ValueTask<AccessScope> GetAsync(CancellationToken ct = default) => ValueTask.FromResult(scope);
}

/// <summary>An audit trail kept in a list (the server writes it to its index), for tests that check what was recorded.</summary>
public sealed class ListAuditTrail : IAuditTrail
{
    private readonly List<AuditEvent> _events = [];

    public IReadOnlyList<AuditEvent> Events { get { lock (_events) return [.. _events]; } }

    public void Record(AuditEvent entry) { lock (_events) _events.Add(entry); }
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
        if (host.GetService<IArchiveMaintenance>() is { } maintenance)
            services.AddSingleton(new SeriesDeletion(host.GetRequiredService<IDbContextFactory<KaapanaDbContext>>(), maintenance, new ListAuditTrail()));
        return services;
    }
}
