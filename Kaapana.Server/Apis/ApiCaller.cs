using Kaapana.Core.Access;
using Kaapana.Core.Audit;

namespace Kaapana.Server.Apis;

/// <summary>
/// What the <c>/api</c> handlers share about the caller: the audit entry of a write (allowed or denied) with the caller,
/// the target and the request's address. Decisions themselves are the scope's (<see cref="AccessScope"/>) and the query services'.
/// </summary>
internal static class ApiCaller
{
    public static void Audit(this IAuditTrail audit, HttpContext http, AccessScope scope, string action, string? target, string outcome, object? details = null) =>
        audit.Record(new AuditEvent(scope.Actor, action, target, outcome, http.Connection.RemoteIpAddress?.ToString(), details));

    /// <summary>A visible resource, a write the caller may not do: 403, with a "denied" audit entry.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ForbidHttpResult Denied(this IAuditTrail audit, HttpContext http, AccessScope scope, string action,
        string? target)
    {
        audit.Audit(http, scope, action, target, AuditOutcomes.Denied);
        return TypedResults.Forbid();
    }
}
