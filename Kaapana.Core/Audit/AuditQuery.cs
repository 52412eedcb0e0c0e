using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Audit;

/// <summary>Filters of an audit search: each null means "any". Actor and action match exactly; target is a substring.</summary>
public sealed record AuditFilter(string? Actor = null, string? Action = null, string? Target = null, DateTime? From = null, DateTime? To = null,
    string? Outcome = null);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, int Total, int Offset, int Limit);

/// <summary>Reads the audit trail for admins: filtered pages (newest first) and a CSV export of everything a filter selects.</summary>
public sealed class AuditQuery(IDbContextFactory<KaapanaDbContext> dbFactory)
{
    public const int MaxLimit = 1000;

    public async Task<AuditPage> SearchAsync(AuditFilter filter, int offset = 0, int limit = 100, CancellationToken ct = default)
    {
        offset = Math.Max(0, offset);
        limit = Math.Clamp(limit, 1, MaxLimit);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = Filter(db.AuditEntries.AsNoTracking(), filter);
        int total = await q.CountAsync(ct);
        var items = await q.OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Skip(offset).Take(limit).ToListAsync(ct);
        return new AuditPage(items, total, offset, limit);
    }

    /// <summary>The distinct action names recorded so far (for the UI's filter).</summary>
    public async Task<IReadOnlyList<string>> ActionsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.AuditEntries.Select(e => e.Action).Distinct().OrderBy(a => a).ToListAsync(ct);
    }

    /// <summary>Every selected entry, oldest first, streamed.</summary>
    public async IAsyncEnumerable<AuditEntry> StreamAsync(AuditFilter filter, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await foreach (var e in Filter(db.AuditEntries.AsNoTracking(), filter).OrderBy(e => e.At).ThenBy(e => e.Id).AsAsyncEnumerable().WithCancellation(ct))
            yield return e;
    }

    /// <summary>CSV (RFC 4180, UTF-8) of the selected entries: header, then one line per entry, written as they are read.</summary>
    public async Task WriteCsvAsync(AuditFilter filter, Stream output, CancellationToken ct = default)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 64 * 1024, leaveOpen: true);
        await writer.WriteAsync("id,at,actor,action,target,outcome,source_address,details\r\n");
        await foreach (var e in StreamAsync(filter, ct))
        {
            await writer.WriteAsync(string.Join(',', e.Id.ToString(CultureInfo.InvariantCulture), e.At.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                Csv(e.Actor), Csv(e.Action), Csv(e.Target), Csv(e.Outcome), Csv(e.SourceAddress), Csv(e.Details)) + "\r\n");
        }
    }

    /// <summary>
    /// A CSV field, quoted when needed. A leading <c>= + - @</c> gets a quote character in front, so a spreadsheet does not
    /// run an actor name or AE title chosen by a peer as a formula.
    /// </summary>
    public static string Csv(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }

    private static IQueryable<AuditEntry> Filter(IQueryable<AuditEntry> q, AuditFilter f)
    {
        if (!string.IsNullOrWhiteSpace(f.Actor)) q = q.Where(e => e.Actor == f.Actor.Trim());
        if (!string.IsNullOrWhiteSpace(f.Action)) q = q.Where(e => e.Action == f.Action.Trim());
        if (!string.IsNullOrWhiteSpace(f.Outcome)) q = q.Where(e => e.Outcome == f.Outcome.Trim());
        if (!string.IsNullOrWhiteSpace(f.Target)) q = q.Where(e => e.Target != null && e.Target.Contains(f.Target.Trim()));
        if (f.From is { } from) q = q.Where(e => e.At >= from.ToUniversalTime());
        if (f.To is { } to) q = q.Where(e => e.At <= to.ToUniversalTime());
        return q;
    }
}
