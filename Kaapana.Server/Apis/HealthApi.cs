using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kaapana.Server.Apis;

public static class HealthApi
{
    private static readonly string Version =
        typeof(HealthApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", GetHealth).WithName(nameof(GetHealth)).WithTags("Health").AllowAnonymous();
        return app;
    }

    /// <summary>200 when every check passes or is degraded, 503 (same body) when one fails, so probes need only the status code.</summary>
    public static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> GetHealth(
        HealthCheckService health, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(cancellationToken);
        var body = new HealthResponse(
            report.Status.ToString(),
            Version,
            report.Entries.ToDictionary(e => e.Key, e => new HealthCheckDto(e.Value.Status.ToString(), e.Value.Description)));

        return report.Status == HealthStatus.Unhealthy
            ? TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(body);
    }
}

public sealed record HealthResponse(string Status, string Version, IReadOnlyDictionary<string, HealthCheckDto> Checks);

public sealed record HealthCheckDto(string Status, string? Description);
