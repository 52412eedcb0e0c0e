using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Dicom;

/// <summary>
/// A remote node as C-MOVE, import and send see it. <see cref="Id"/> is null for a node from configuration
/// (<c>Kaapana:Dicom:RemoteNodes</c>), which is read-only here.
/// </summary>
public sealed record RemoteNodeEntry(int? Id, string AETitle, string Host, int Port, string? Description)
{
    public bool FromConfiguration => Id is null;

    public RemoteNodeOptions ToOptions() => new() { AETitle = AETitle, Host = Host, Port = Port };
}

/// <summary>What an admin enters for a node.</summary>
public sealed record RemoteNodeInput(string? AETitle, string? Host, int Port, string? Description = null);

/// <summary>The input breaks a rule (<see cref="RemoteNodeDirectory.Validate"/>, a duplicate AE title, a configured node); nothing was changed.</summary>
public sealed class RemoteNodeValidationException(string message) : Exception(message);

/// <summary>
/// The one lookup of remote DICOM nodes: those from configuration first (they win on an AE title clash, so an operator's
/// file cannot be overridden from the UI), then those in the index. Used for C-MOVE destinations, import and send.
/// </summary>
public interface IRemoteNodeDirectory
{
    Task<IReadOnlyList<RemoteNodeEntry>> ListAsync(CancellationToken ct = default);

    /// <summary>The node with this AE title (padding ignored, case kept: AE titles are case-sensitive), or null.</summary>
    Task<RemoteNodeEntry?> FindAsync(string aeTitle, CancellationToken ct = default);

    Task<RemoteNodeEntry?> GetAsync(int id, CancellationToken ct = default);

    /// <exception cref="RemoteNodeValidationException">Invalid input or the AE title is taken.</exception>
    Task<RemoteNodeEntry> AddAsync(RemoteNodeInput input, CancellationToken ct = default);

    /// <returns>Null when there is no such node in the index.</returns>
    /// <exception cref="RemoteNodeValidationException">Invalid input or the AE title is taken.</exception>
    Task<RemoteNodeEntry?> UpdateAsync(int id, RemoteNodeInput input, CancellationToken ct = default);

    Task<bool> DeleteAsync(int id, CancellationToken ct = default);
}

public sealed class RemoteNodeDirectory(IDbContextFactory<KaapanaDbContext> dbFactory, IOptions<DicomReceiverOptions> options) : IRemoteNodeDirectory
{
    private IEnumerable<RemoteNodeEntry> Configured =>
        options.Value.RemoteNodes.Where(n => !string.IsNullOrWhiteSpace(n.AETitle))
            .Select(n => new RemoteNodeEntry(null, n.AETitle.Trim(), n.Host, n.Port, "from configuration"));

    private static RemoteNodeEntry ToEntry(RemoteNode n) => new(n.Id, n.AETitle, n.Host, n.Port, n.Description);

    public async Task<IReadOnlyList<RemoteNodeEntry>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var stored = await db.RemoteNodes.AsNoTracking().OrderBy(n => n.AETitle).ToListAsync(ct).ConfigureAwait(false);
        var configured = Configured.ToList();
        var shadowed = configured.Select(c => c.AETitle).ToHashSet(StringComparer.Ordinal);
        return configured.Concat(stored.Where(s => !shadowed.Contains(s.AETitle)).Select(ToEntry)).ToList();
    }

    public async Task<RemoteNodeEntry?> FindAsync(string aeTitle, CancellationToken ct = default)
    {
        var ae = aeTitle.Trim();
        if (Configured.FirstOrDefault(n => string.Equals(n.AETitle, ae, StringComparison.Ordinal)) is { } configured) return configured;
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var node = await db.RemoteNodes.AsNoTracking().FirstOrDefaultAsync(n => n.AETitle == ae, ct).ConfigureAwait(false);
        return node is null ? null : ToEntry(node);
    }

    public async Task<RemoteNodeEntry?> GetAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var node = await db.RemoteNodes.AsNoTracking().FirstOrDefaultAsync(n => n.Id == id, ct).ConfigureAwait(false);
        return node is null ? null : ToEntry(node);
    }

    /// <summary>The rules a node must meet; null when it does. AE title: PS3.5 6.2 (≤ 16 characters, no backslash or control characters).</summary>
    public static string? Validate(RemoteNodeInput input)
    {
        if (AETitleRules.Check(input.AETitle) is { } aeError) return aeError;
        var host = input.Host?.Trim();
        if (string.IsNullOrEmpty(host)) return "A host name or IP address is required.";
        if (host.Length > 253 || host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or '\\' or '@'))
            return $"'{host}' is not a host name or IP address.";
        if (input.Port is < 1 or > 65535) return $"Port {input.Port} is outside 1–65535.";
        if (input.Description is { Length: > 4000 }) return "The description is longer than 4000 characters.";
        return null;
    }

    public async Task<RemoteNodeEntry> AddAsync(RemoteNodeInput input, CancellationToken ct = default)
    {
        var node = new RemoteNode { AETitle = "", Host = "" };
        await SaveAsync(null, node, input, ct).ConfigureAwait(false);
        return ToEntry(node);
    }

    public async Task<RemoteNodeEntry?> UpdateAsync(int id, RemoteNodeInput input, CancellationToken ct = default)
    {
        var node = await SaveAsync(id, null, input, ct).ConfigureAwait(false);
        return node is null ? null : ToEntry(node);
    }

    private async Task<RemoteNode?> SaveAsync(int? id, RemoteNode? node, RemoteNodeInput input, CancellationToken ct)
    {
        if (Validate(input) is { } error) throw new RemoteNodeValidationException(error);
        var ae = input.AETitle!.Trim();
        if (Configured.Any(n => string.Equals(n.AETitle, ae, StringComparison.Ordinal)))
            throw new RemoteNodeValidationException($"AE title '{ae}' is a node from configuration (Kaapana:Dicom:RemoteNodes); change it there.");
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        if (await db.RemoteNodes.AnyAsync(n => n.AETitle == ae && n.Id != (id ?? 0), ct).ConfigureAwait(false))
            throw new RemoteNodeValidationException($"A remote node with AE title '{ae}' exists already.");
        if (id is { } existing)
        {
            node = await db.RemoteNodes.FirstOrDefaultAsync(n => n.Id == existing, ct).ConfigureAwait(false);
            if (node is null) return null;
        }
        else
        {
            db.RemoteNodes.Add(node!);
        }
        node!.AETitle = ae;
        node.Host = input.Host!.Trim();
        node.Port = input.Port;
        node.Description = string.IsNullOrWhiteSpace(input.Description) ? null : input.Description.Trim();
        try
        {
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
        }
        catch (DbUpdateException)
        {
            // Two admins adding the same AE title at once: the unique index decides.
            throw new RemoteNodeValidationException($"A remote node with AE title '{ae}' exists already.");
        }
        return node;
    }

    public async Task<bool> DeleteAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        return await db.RemoteNodes.Where(n => n.Id == id).ExecuteDeleteAsync(ct).ConfigureAwait(false) > 0;
    }
}
