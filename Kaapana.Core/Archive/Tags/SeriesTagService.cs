using System.Text;
using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Tags;

/// <summary>What a tag change did: links added and removed.</summary>
public sealed record TagChangeResult(int Added, int Removed);

/// <summary>What a toggle did: whether the tag was added (false: removed) and how many series changed.</summary>
public sealed record TagToggleResult(string Tag, bool Added, int Changed);

/// <summary>A tag and how much it is used (autocomplete).</summary>
public sealed record TagUse(string Tag, int UseCount, DateTime LastUsedAt);

/// <summary>
/// Free-text tags on series: add, remove and toggle on a set of series (given as UIDs or as chunks of UIDs, so a selection of
/// 100,000 series is never one list), autocomplete, and the project's recent tags for the 1–9 shortcuts.
/// </summary>
public interface ISeriesTagService
{
    /// <summary>Adds and removes tags on the series (UIDs not in the index are ignored). Tags are normalized (<see cref="SeriesTagService.Normalize"/>).</summary>
    Task<TagChangeResult> ChangeAsync(IReadOnlyCollection<string> seriesUids, IEnumerable<string> add, IEnumerable<string> remove,
        string? project, string? user, CancellationToken ct = default);

    /// <summary>Removes the tag when every series of the set has it, else adds it to those that lack it.</summary>
    Task<TagToggleResult> ToggleAsync(Func<IAsyncEnumerable<IReadOnlyList<string>>> seriesChunks, string tag, string? project, string? user,
        IProgress<int>? progress = null, CancellationToken ct = default);

    /// <summary>Tags starting with <paramref name="prefix"/> (case-insensitive), most used in the project first.</summary>
    Task<IReadOnlyList<TagUse>> SuggestAsync(string? project, string? prefix, int limit = 10, CancellationToken ct = default);

    /// <summary>The project's most recently used tags, newest first (the number keys 1–9).</summary>
    Task<IReadOnlyList<string>> RecentAsync(string? project, int count = 9, CancellationToken ct = default);

    /// <summary>The tags of each of the series (only series that have any), sorted.</summary>
    Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> TagsOfAsync(IReadOnlyCollection<string> seriesUids, CancellationToken ct = default);
}

public sealed class SeriesTagService(IDbContextFactory<KaapanaDbContext> dbFactory, IOptions<KaapanaOptions> options, TimeProvider? time = null) : ISeriesTagService
{
    private const int Chunk = 500;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Trimmed, inner whitespace collapsed to one space; null when empty or longer than <see cref="TagsModel.MaxTagLength"/>.</summary>
    public static string? Normalize(string? tag)
    {
        if (string.IsNullOrWhiteSpace(tag)) return null;
        var sb = new StringBuilder(tag.Length);
        bool space = false;
        foreach (var c in tag.Trim())
        {
            if (char.IsWhiteSpace(c)) { space = true; continue; }
            if (char.IsControl(c)) return null;
            if (space) sb.Append(' ');
            space = false;
            sb.Append(c);
        }
        return sb.Length is 0 or > TagsModel.MaxTagLength ? null : sb.ToString();
    }

    /// <summary>Normalized tags, or an <see cref="ArgumentException"/> naming the first invalid one.</summary>
    public static List<string> NormalizeAll(IEnumerable<string> tags)
    {
        var result = new List<string>();
        foreach (var t in tags)
        {
            var n = Normalize(t) ?? throw new ArgumentException($"'{t}' is not a valid tag: 1–{TagsModel.MaxTagLength} characters, no control characters.");
            if (!result.Contains(n, StringComparer.Ordinal)) result.Add(n);
        }
        return result;
    }

    public async Task<TagChangeResult> ChangeAsync(IReadOnlyCollection<string> seriesUids, IEnumerable<string> add, IEnumerable<string> remove,
        string? project, string? user, CancellationToken ct = default)
    {
        var toAdd = NormalizeAll(add);
        var toRemove = NormalizeAll(remove);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        int projectId = await ProjectIdAsync(db, project, ct);
        int added = 0, removed = 0;
        foreach (var chunk in seriesUids.Distinct(StringComparer.Ordinal).Chunk(Chunk))
        {
            var ids = await db.Series.Where(s => chunk.Contains(s.SeriesInstanceUID)).Select(s => s.Id).ToListAsync(ct);
            foreach (var tag in toAdd) added += await AddAsync(db, ids, tag, user, ct);
            foreach (var tag in toRemove) removed += await db.SeriesTags.Where(t => t.Tag == tag && ids.Contains(t.SeriesId)).ExecuteDeleteAsync(ct);
        }
        foreach (var tag in toAdd.Concat(toRemove)) await TouchAsync(db, projectId, tag, ct);
        await db.SaveChangesAsync(ct);
        return new TagChangeResult(added, removed);
    }

    public async Task<TagToggleResult> ToggleAsync(Func<IAsyncEnumerable<IReadOnlyList<string>>> seriesChunks, string tag, string? project, string? user,
        IProgress<int>? progress = null, CancellationToken ct = default)
    {
        tag = Normalize(tag) ?? throw new ArgumentException($"'{tag}' is not a valid tag.", nameof(tag));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        int projectId = await ProjectIdAsync(db, project, ct);

        // First pass: does every series of the set have it? Stops at the first chunk with one lacking it.
        bool all = true, any = false;
        await foreach (var chunk in seriesChunks().WithCancellation(ct))
        {
            foreach (var part in chunk.Chunk(Chunk))
            {
                var ids = await db.Series.Where(s => part.Contains(s.SeriesInstanceUID)).Select(s => s.Id).ToListAsync(ct);
                if (ids.Count == 0) continue;
                any = true;
                int tagged = await db.SeriesTags.CountAsync(t => t.Tag == tag && ids.Contains(t.SeriesId), ct);
                if (tagged < ids.Count) { all = false; break; }
            }
            if (!all) break;
        }
        bool add = !(all && any);
        int changed = 0, done = 0;
        await foreach (var chunk in seriesChunks().WithCancellation(ct))
        {
            foreach (var part in chunk.Chunk(Chunk))
            {
                var ids = await db.Series.Where(s => part.Contains(s.SeriesInstanceUID)).Select(s => s.Id).ToListAsync(ct);
                changed += add
                    ? await AddAsync(db, ids, tag, user, ct)
                    : await db.SeriesTags.Where(t => t.Tag == tag && ids.Contains(t.SeriesId)).ExecuteDeleteAsync(ct);
                await db.SaveChangesAsync(ct);
                done += part.Length;
                progress?.Report(done);
            }
        }
        await TouchAsync(db, projectId, tag, ct);
        await db.SaveChangesAsync(ct);
        return new TagToggleResult(tag, add, changed);
    }

    private async Task<int> AddAsync(KaapanaDbContext db, List<long> ids, string tag, string? user, CancellationToken ct)
    {
        var have = (await db.SeriesTags.Where(t => t.Tag == tag && ids.Contains(t.SeriesId)).Select(t => t.SeriesId).ToListAsync(ct)).ToHashSet();
        var now = _time.GetUtcNow().UtcDateTime;
        var missing = ids.Where(id => !have.Contains(id)).ToList();
        db.SeriesTags.AddRange(missing.Select(id => new SeriesTag { SeriesId = id, Tag = tag, CreatedBy = user, CreatedAt = now }));
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        return missing.Count;
    }

    private async Task TouchAsync(KaapanaDbContext db, int projectId, string tag, CancellationToken ct)
    {
        var usage = await db.TagUsages.FirstOrDefaultAsync(u => u.ProjectId == projectId && u.Tag == tag, ct);
        if (usage is null)
        {
            usage = new TagUsage { ProjectId = projectId, Tag = tag };
            db.TagUsages.Add(usage);
        }
        usage.UseCount++;
        usage.LastUsedAt = _time.GetUtcNow().UtcDateTime;
    }

    public async Task<IReadOnlyList<TagUse>> SuggestAsync(string? project, string? prefix, int limit = 10, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        int projectId = await ProjectIdAsync(db, project, ct);
        var q = db.TagUsages.AsNoTracking().Where(u => u.ProjectId == projectId);
        prefix = prefix?.Trim();
        if (!string.IsNullOrEmpty(prefix))
        {
            var pattern = prefix.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
            q = q.Where(u => EF.Functions.Like(u.Tag, pattern, "\\"));
        }
        return await q.OrderByDescending(u => u.UseCount).ThenByDescending(u => u.LastUsedAt).ThenBy(u => u.Tag)
            .Take(Math.Clamp(limit, 1, 100)).Select(u => new TagUse(u.Tag, u.UseCount, u.LastUsedAt)).ToListAsync(ct);
    }

    public async Task<IReadOnlyList<string>> RecentAsync(string? project, int count = 9, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        int projectId = await ProjectIdAsync(db, project, ct);
        return await db.TagUsages.AsNoTracking().Where(u => u.ProjectId == projectId)
            .OrderByDescending(u => u.LastUsedAt).ThenBy(u => u.Tag).Take(Math.Clamp(count, 1, 100)).Select(u => u.Tag).ToListAsync(ct);
    }

    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> TagsOfAsync(IReadOnlyCollection<string> seriesUids, CancellationToken ct = default)
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (seriesUids.Count == 0) return result;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var chunk in seriesUids.Distinct(StringComparer.Ordinal).Chunk(Chunk))
        {
            var rows = await db.SeriesTags.AsNoTracking()
                .Join(db.Series.Where(s => chunk.Contains(s.SeriesInstanceUID)), t => t.SeriesId, s => s.Id, (t, s) => new { s.SeriesInstanceUID, t.Tag })
                .ToListAsync(ct);
            foreach (var g in rows.GroupBy(r => r.SeriesInstanceUID))
                result[g.Key] = g.Select(r => r.Tag).Order(StringComparer.Ordinal).ToList();
        }
        return result;
    }

    /// <summary>The named project's id (the default project when none is named).</summary>
    private async Task<int> ProjectIdAsync(KaapanaDbContext db, string? project, CancellationToken ct)
    {
        var name = string.IsNullOrWhiteSpace(project) ? options.Value.Archive.DefaultProject : project;
        return await db.Projects.Where(p => p.Name == name).Select(p => (int?)p.Id).FirstOrDefaultAsync(ct)
            ?? throw new KeyNotFoundException($"There is no project '{name}'.");
    }
}
