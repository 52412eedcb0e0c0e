using Kaapana.Server.Auth;
using Kaapana.Core.Access.Dicom;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kaapana.Server.Apis;

/// <summary>
/// <c>/api/dicom-access</c>: the DICOM door's rules (which calling AE titles, optionally from which addresses, may store, find,
/// move or get on which of our AE titles). Changes apply to the next association. Invalid input answers 400 with the reason.
/// </summary>
public static class DicomAccessApi
{
    public sealed record RuleDto(int Id, string CalledAE, string CallingAE, string? PeerAddress, bool AllowStore, bool AllowFind, bool AllowMove,
        bool AllowGet, string? Description, DateTime CreatedAt)
    {
        public static RuleDto From(DicomAccessRule r) =>
            new(r.Id, r.CalledAE, r.CallingAE, r.PeerAddress, r.AllowStore, r.AllowFind, r.AllowMove, r.AllowGet, r.Description, r.CreatedAt);
    }

    public static IEndpointRouteBuilder MapDicomAccessApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/dicom-access").WithTags("DICOM access").RequireAuthorization(AuthExtensions.AdminPolicy);
        api.MapGet("", List);
        api.MapPost("", Add).DisableAntiforgery();
        api.MapPut("/{id:int}", Update).DisableAntiforgery();
        api.MapDelete("/{id:int}", Delete).DisableAntiforgery();
        return app;
    }

    private static string Actor(HttpContext http) => http.User.Identity?.Name is { Length: > 0 } n ? n : "anonymous";

    public static async Task<Ok<List<RuleDto>>> List(DicomAccessRules rules, CancellationToken ct) =>
        TypedResults.Ok((await rules.ListAsync(ct)).Select(RuleDto.From).ToList());

    public static async Task<Results<Created<RuleDto>, BadRequest<ProblemDetails>>> Add(DicomAccessRuleInput input, DicomAccessRules rules,
        HttpContext http, CancellationToken ct)
    {
        try
        {
            var rule = await rules.AddAsync(input, Actor(http), ct);
            return TypedResults.Created($"/api/dicom-access/{rule.Id}", RuleDto.From(rule));
        }
        catch (DicomAccessRuleException ex)
        {
            return TypedResults.BadRequest(new ProblemDetails { Title = ex.Message, Status = 400 });
        }
    }

    public static async Task<Results<Ok<RuleDto>, NotFound<ProblemDetails>, BadRequest<ProblemDetails>>> Update(int id, DicomAccessRuleInput input,
        DicomAccessRules rules, HttpContext http, CancellationToken ct)
    {
        try
        {
            return await rules.UpdateAsync(id, input, Actor(http), ct) is { } rule
                ? TypedResults.Ok(RuleDto.From(rule))
                : TypedResults.NotFound(new ProblemDetails { Title = $"No DICOM access rule {id}.", Status = 404 });
        }
        catch (DicomAccessRuleException ex)
        {
            return TypedResults.BadRequest(new ProblemDetails { Title = ex.Message, Status = 400 });
        }
    }

    public static async Task<Results<NoContent, NotFound<ProblemDetails>>> Delete(int id, DicomAccessRules rules, HttpContext http, CancellationToken ct) =>
        await rules.DeleteAsync(id, Actor(http), ct)
            ? TypedResults.NoContent()
            : TypedResults.NotFound(new ProblemDetails { Title = $"No DICOM access rule {id}.", Status = 404 });
}
