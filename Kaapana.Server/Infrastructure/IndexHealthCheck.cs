using Kaapana.Core.Archive.Index;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kaapana.Server.Infrastructure;

/// <summary>Healthy when the index database exists and accepts a connection.</summary>
public sealed class IndexHealthCheck(KaapanaDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await db.Database.CanConnectAsync(cancellationToken)
            ? HealthCheckResult.Healthy("Index database reachable.")
            : HealthCheckResult.Unhealthy("Index database unreachable.");
}
