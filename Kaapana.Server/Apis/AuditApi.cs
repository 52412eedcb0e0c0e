using Kaapana.Server.Auth;
using Kaapana.Core.Audit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>
/// <c>GET /api/audit</c>: the audit trail, newest first, filtered (actor and action exact, target substring, from/to as ISO
/// 8601 instants) and paged (<c>offset</c>, <c>limit</c> up to 1000); <c>GET /api/audit/export.csv</c>: everything the same
/// filters select, oldest first, streamed as CSV.
/// </summary>
public static class AuditApi
{
    public sealed record AuditEntryDto(long Id, DateTime At, string Actor, string Action, string? Target, string Outcome, string? SourceAddress,
        string? Details);

    public sealed record AuditPageDto(int Total, int Offset, int Limit, IReadOnlyList<AuditEntryDto> Items);

    public sealed record AuditFilterQuery(string? Actor, string? Action, string? Target, string? Outcome, DateTimeOffset? From, DateTimeOffset? To)
    {
        public AuditFilter ToFilter() => new(Actor, Action, Target, From?.UtcDateTime, To?.UtcDateTime, Outcome);
    }

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/audit").WithTags("Audit").RequireAuthorization(AuthExtensions.AdminPolicy);
        api.MapGet("", Search);
        api.MapGet("/export.csv", Export);
        return app;
    }

    public static async Task<Results<Ok<AuditPageDto>, BadRequest<ProblemDetails>>> Search([AsParameters] AuditFilterQuery query, AuditQuery audit,
        int? offset, int? limit, CancellationToken ct)
    {
        if (offset is < 0) return TypedResults.BadRequest(new ProblemDetails { Title = "offset must not be negative.", Status = 400 });
        if (limit is < 1 or > AuditQuery.MaxLimit)
            return TypedResults.BadRequest(new ProblemDetails { Title = $"limit must be between 1 and {AuditQuery.MaxLimit}.", Status = 400 });
        var page = await audit.SearchAsync(query.ToFilter(), offset ?? 0, limit ?? 100, ct);
        return TypedResults.Ok(new AuditPageDto(page.Total, page.Offset, page.Limit,
            page.Items.Select(e => new AuditEntryDto(e.Id, DateTime.SpecifyKind(e.At, DateTimeKind.Utc), e.Actor, e.Action, e.Target, e.Outcome,
                e.SourceAddress, e.Details)).ToList()));
    }

    public static async Task Export([AsParameters] AuditFilterQuery query, AuditQuery audit, HttpContext http, CancellationToken ct)
    {
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"audit-{DateTime.UtcNow:yyyyMMdd-HHmmss}.csv\"";
        await audit.WriteCsvAsync(query.ToFilter(), http.Response.Body, ct);
    }
}
