using System.Net;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Audit;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Access.Dicom;

/// <summary>What an admin enters for a rule (API body and UI form).</summary>
public sealed record DicomAccessRuleInput(string CalledAE, string CallingAE, string? PeerAddress, bool AllowStore, bool AllowFind,
    bool AllowMove, bool AllowGet, string? Description = null);

/// <summary>A rule input that cannot be saved, with the reason (answered as 400).</summary>
public sealed class DicomAccessRuleException(string message) : Exception(message);

/// <summary>
/// The DICOM door's rules in the index: list, add, change, delete (each change audited), and a cached snapshot that every
/// association's evaluation reads (no database round trip per association; replaced on every change made here).
/// </summary>
public sealed class DicomAccessRules(IDbContextFactory<KaapanaDbContext> dbFactory, IAuditTrail audit)
{
    private volatile IReadOnlyList<DicomAccessRule>? _snapshot;
    private int _generation;

    public async Task<IReadOnlyList<DicomAccessRule>> ListAsync(CancellationToken ct = default)
    {
        if (_snapshot is { } s) return s;
        int generation = Volatile.Read(ref _generation);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rules = await db.DicomAccessRules.AsNoTracking().OrderBy(r => r.Id).ToListAsync(ct);
        // A change made while this read ran must not be hidden behind the older list.
        if (Volatile.Read(ref _generation) == generation) _snapshot = rules;
        return rules;
    }

    private void Changed()
    {
        Interlocked.Increment(ref _generation);
        _snapshot = null;
    }

    public async Task<DicomAccessRule> AddAsync(DicomAccessRuleInput input, string actor, CancellationToken ct = default)
    {
        var rule = new DicomAccessRule { CalledAE = "", CallingAE = "", CreatedAt = DateTime.UtcNow };
        Apply(Validate(input), rule);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.DicomAccessRules.Add(rule);
        await db.SaveChangesAsync(ct);
        Changed();
        audit.Record(new AuditEvent(actor, AuditActions.DicomAccessRuleAdded, Describe(rule), AuditOutcomes.Success, Details: rule));
        return rule;
    }

    /// <returns>Null when no rule has <paramref name="id"/>.</returns>
    public async Task<DicomAccessRule?> UpdateAsync(int id, DicomAccessRuleInput input, string actor, CancellationToken ct = default)
    {
        var valid = Validate(input);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rule = await db.DicomAccessRules.FirstOrDefaultAsync(r => r.Id == id, ct);
        if (rule is null) return null;
        Apply(valid, rule);
        await db.SaveChangesAsync(ct);
        Changed();
        audit.Record(new AuditEvent(actor, AuditActions.DicomAccessRuleChanged, Describe(rule), AuditOutcomes.Success, Details: rule));
        return rule;
    }

    public async Task<bool> DeleteAsync(int id, string actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rule = await db.DicomAccessRules.FirstOrDefaultAsync(r => r.Id == id, ct);
        if (rule is null) return false;
        db.DicomAccessRules.Remove(rule);
        await db.SaveChangesAsync(ct);
        Changed();
        audit.Record(new AuditEvent(actor, AuditActions.DicomAccessRuleDeleted, Describe(rule), AuditOutcomes.Success, Details: rule));
        return true;
    }

    public static string Describe(DicomAccessRule r) => $"rule {r.Id}: {r.CallingAE}@{r.PeerAddress ?? "any"} -> {r.CalledAE}";

    private static void Apply(DicomAccessRuleInput input, DicomAccessRule rule)
    {
        rule.CalledAE = input.CalledAE;
        rule.CallingAE = input.CallingAE;
        rule.PeerAddress = input.PeerAddress;
        rule.AllowStore = input.AllowStore;
        rule.AllowFind = input.AllowFind;
        rule.AllowMove = input.AllowMove;
        rule.AllowGet = input.AllowGet;
        rule.Description = input.Description;
    }

    /// <summary>Trims and checks an input; throws <see cref="DicomAccessRuleException"/> naming what is wrong.</summary>
    public static DicomAccessRuleInput Validate(DicomAccessRuleInput input)
    {
        var called = CheckAE(input.CalledAE, "Called AE title");
        var calling = CheckAE(input.CallingAE, "Calling AE title");
        var peer = string.IsNullOrWhiteSpace(input.PeerAddress) ? null : input.PeerAddress.Trim();
        if (peer is not null && !TryParseNetwork(peer, out _))
            throw new DicomAccessRuleException($"Peer address '{peer}' is neither an IP address nor a CIDR block (e.g. 10.0.0.0/8).");
        if (!(input.AllowStore || input.AllowFind || input.AllowMove || input.AllowGet))
            throw new DicomAccessRuleException("A rule must allow at least one of store, find, move, get.");
        var description = string.IsNullOrWhiteSpace(input.Description) ? null : input.Description.Trim();
        if (description is { Length: > 1000 }) throw new DicomAccessRuleException("The description is longer than 1000 characters.");
        return input with { CalledAE = called, CallingAE = calling, PeerAddress = peer, Description = description };
    }

    private static string CheckAE(string? value, string what)
    {
        var ae = value?.Trim() ?? "";
        if (ae.Length == 0) throw new DicomAccessRuleException($"{what} is required ('*' for any).");
        if (ae.Length > 16) throw new DicomAccessRuleException($"{what} '{ae}' is longer than 16 characters.");
        if (ae.Any(c => c < 0x20 || c > 0x7E || c == '\\'))
            throw new DicomAccessRuleException($"{what} '{ae}' may hold only printable ASCII characters other than backslash.");
        return ae;
    }

    /// <summary>An address (a /32 or /128 network) or a CIDR block.</summary>
    public static bool TryParseNetwork(string text, out IPNetwork network)
    {
        if (IPAddress.TryParse(text, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        return IPNetwork.TryParse(text, out network);
    }
}
