using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Runs;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Workflows.Results;

/// <summary>One run's metrics: a row per item that wrote <c>metrics.json</c>, columns in order of first appearance.</summary>
public sealed record MetricsTable(IReadOnlyList<string> Columns, IReadOnlyList<MetricsRow> Rows);

public sealed record MetricsRow(long ItemId, string ItemKey, JsonObject Values);

/// <summary>Read side of results: metrics tables, provenance of derived series, artifacts, item logs.</summary>
public sealed class RunResults(IDbContextFactory<KaapanaDbContext> dbFactory, WorkflowPaths paths)
{
    /// <summary>The server's version, recorded in provenance.</summary>
    public static string ServerVersion { get; } =
        (Assembly.GetEntryAssembly() ?? typeof(RunResults).Assembly).GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public async Task<MetricsTable?> GetMetricsAsync(long runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.WorkflowRuns.AnyAsync(r => r.Id == runId, ct)) return null;
        var items = await db.RunItems.AsNoTracking().Where(i => i.RunId == runId && i.MetricsJson != null).OrderBy(i => i.ScopeKey)
            .Select(i => new { i.Id, i.ScopeKey, i.MetricsJson }).ToListAsync(ct);
        var columns = new List<string>();
        var rows = new List<MetricsRow>();
        foreach (var i in items)
        {
            var values = JsonNode.Parse(i.MetricsJson!)!.AsObject();
            foreach (var (key, _) in values)
                if (!columns.Contains(key)) columns.Add(key);
            rows.Add(new MetricsRow(i.Id, i.ScopeKey, values));
        }
        return new MetricsTable(columns, rows);
    }

    /// <summary>RFC 4180 CSV: item, key, then the metric columns; empty cells for metrics an item lacks.</summary>
    public static string ToCsv(MetricsTable table)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', new[] { "item", "key" }.Concat(table.Columns).Select(Escape)).Append("\r\n");
        foreach (var row in table.Rows)
        {
            sb.Append(row.ItemId).Append(',').Append(Escape(row.ItemKey));
            foreach (var column in table.Columns)
            {
                sb.Append(',');
                if (row.Values.TryGetPropertyValue(column, out var v) && v is not null)
                    sb.Append(Escape(v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString()));
            }
            sb.Append("\r\n");
        }
        return sb.ToString();
    }

    private static string Escape(string s) => s.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    /// <summary>How a derived series came to be: algorithm, image digest, parameters, input, timing, exit code, server version.</summary>
    public async Task<JsonObject?> GetProvenanceAsync(string seriesInstanceUid, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var link = await db.DerivedSeries.AsNoTracking().FirstOrDefaultAsync(d => d.SeriesInstanceUID == seriesInstanceUid && d.Complete, ct);
        if (link is null) return null;
        var item = await db.RunItems.AsNoTracking().FirstAsync(i => i.Id == link.RunItemId, ct);
        var run = await db.WorkflowRuns.AsNoTracking().FirstAsync(r => r.Id == link.RunId, ct);
        var version = run.DatasetVersionId is { } vid ? await db.DatasetVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vid, ct) : null;
        var input = WorkflowRuns.ReadInput(item);
        return new JsonObject
        {
            ["derivedSeriesInstanceUID"] = link.SeriesInstanceUID,
            ["instanceCount"] = link.InstanceCount,
            ["sourceSeriesInstanceUIDs"] = JsonNode.Parse(link.SourceSeriesJson),
            ["algorithm"] = new JsonObject
            {
                ["id"] = run.AlgorithmId, ["name"] = run.AlgorithmName, ["version"] = run.AlgorithmVersion, ["imageDigest"] = run.ImageDigest,
            },
            ["parameters"] = JsonNode.Parse(run.ParametersJson),
            ["input"] = new JsonObject
            {
                ["datasetVersionId"] = run.DatasetVersionId,
                ["datasetName"] = version?.DatasetName,
                ["datasetVersion"] = version?.Number,
                ["uidListHash"] = version?.UidListHash,
                ["seriesSelection"] = run.SeriesSelectionJson is { } s ? JsonNode.Parse(s) : null,
                ["sopInstanceUIDs"] = new JsonArray([.. input.Select(i => (JsonNode)JsonValue.Create(i.Sop))]),
            },
            ["run"] = new JsonObject
            {
                ["id"] = run.Id, ["createdAt"] = run.CreatedAt, ["requestedBy"] = run.RequestedBy, ["project"] = run.ProjectId,
            },
            ["item"] = new JsonObject
            {
                ["id"] = item.Id, ["key"] = item.ScopeKey, ["attempt"] = item.Attempt, ["startedAt"] = item.StartedAt, ["endedAt"] = item.EndedAt,
                ["exitCode"] = item.ExitCode,
            },
            ["serverVersion"] = ServerVersion,
        };
    }

    public async Task<IReadOnlyList<RunArtifact>> ListArtifactsAsync(long runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.RunArtifacts.AsNoTracking().Where(a => a.RunId == runId).OrderBy(a => a.RunItemId).ThenBy(a => a.Name).ToListAsync(ct);
    }

    public async Task<IReadOnlyList<DerivedSeries>> ListDerivedSeriesAsync(long runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.DerivedSeries.AsNoTracking().Where(d => d.RunId == runId && d.Complete).OrderBy(d => d.SeriesInstanceUID).ToListAsync(ct);
    }

    /// <summary>Absolute path of an item's latest log file, or null.</summary>
    public async Task<string?> GetLogPathAsync(long runId, long itemId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await db.RunItems.AsNoTracking().FirstOrDefaultAsync(i => i.Id == itemId && i.RunId == runId, ct);
        if (item is null) return null;
        // While it runs the row has no path yet; the file of the current attempt is being written.
        var path = item.LogPath is { } p ? paths.Absolute(p) : paths.LogFile(runId, itemId, item.Attempt);
        return File.Exists(path) ? path : null;
    }

    public string AbsolutePath(RunArtifact artifact) => paths.Absolute(artifact.StoragePath);

    /// <summary>
    /// The log of the item's current attempt as it grows: waits while the item is queued, yields new bytes as the file
    /// grows, and ends once the item has ended and everything written was read. Polls (the file is the only channel, so
    /// this works for items run by another process on the same data folder too).
    /// </summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> FollowLogAsync(long runId, long itemId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var buffer = new byte[64 * 1024];
        FileStream? file = null;
        int attempt = -1;
        try
        {
            while (true)
            {
                RunItem? item;
                await using (var db = await dbFactory.CreateDbContextAsync(ct))
                    item = await db.RunItems.AsNoTracking().FirstOrDefaultAsync(i => i.Id == itemId && i.RunId == runId, ct);
                if (item is null) yield break;
                bool ended = item.State is not (WorkState.Queued or WorkState.Running);
                if (item.Attempt != attempt && item.Attempt > 0)
                {
                    // A new attempt writes a new file; follow that one from its start.
                    var path = paths.LogFile(runId, itemId, item.Attempt);
                    if (File.Exists(path))
                    {
                        if (file is not null) await file.DisposeAsync();
                        file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.Asynchronous);
                        attempt = item.Attempt;
                    }
                }
                if (file is not null)
                {
                    int read;
                    while ((read = await file.ReadAsync(buffer, ct)) > 0) yield return buffer.AsMemory(0, read).ToArray();
                }
                if (ended && (file is null || attempt == item.Attempt)) yield break;
                await Task.Delay(250, ct);
            }
        }
        finally
        {
            if (file is not null) await file.DisposeAsync();
        }
    }
}
