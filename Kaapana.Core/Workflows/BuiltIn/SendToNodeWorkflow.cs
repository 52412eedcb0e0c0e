using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Dicom;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Storage;
using Kaapana.Core.Workflows.Manifest;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>
/// <c>builtin/send-to-node</c>: C-STORE of each item's instances (as frozen in the run) to a remote node configured under
/// <c>Kaapana:Dicom:RemoteNodes</c>, one association per item, files streamed from the archive in their stored transfer syntax
/// (uncompressed offered as fallback). The item's metrics count the outcomes and DIMSE statuses; the full per-instance list is
/// the artifact <c>send-report.json</c>. Any instance not stored fails the item, naming the instances and why.
/// </summary>
public sealed class SendToNodeWorkflow(
    IDbContextFactory<KaapanaDbContext> dbFactory,
    IArchiveStorage storage,
    IOptions<DicomReceiverOptions> receiver,
    IOptions<KaapanaOptions> kaapana,
    WorkflowPaths paths,
    ILoggerFactory loggerFactory) : IBuiltInWorkflow
{
    public const string ReportName = "send-report.json";
    private const int ListedFailures = 5;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public AlgorithmManifest Manifest { get; } = new()
    {
        Name = "builtin/send-to-node", Version = "1.0.0", Title = "Send to DICOM node", Image = "builtin/send-to-node",
        Description = "Sends the input series to a configured remote DICOM node (C-STORE).",
        Input = new InputSpec { Scope = InputScope.Series },
        Parameters =
        [
            new ParameterSpec { Name = "node", Type = ParameterType.String, Required = true, Title = "Remote node (AE title)",
                Help = "AE title of a node configured under Kaapana:Dicom:RemoteNodes (Admin → Nodes)" },
        ],
        Outputs = [OutputKind.Metrics, OutputKind.Files],
    };

    /// <summary>Per instance: what the peer answered (status code and its meaning) or why nothing was answered.</summary>
    public sealed record InstanceReport(string SopInstanceUid, string? Status, bool Stored, string? Error, ushort? StatusCode = null);

    public Task<IReadOnlyList<string>> ValidateAsync(BuiltInLaunch launch, CancellationToken ct)
    {
        var ae = launch.Parameters["node"]?.GetValue<string>() ?? "";
        IReadOnlyList<string> errors = receiver.Value.FindRemoteNode(ae) is null
            ? [$"parameter node: no remote node '{ae}' is configured (known: {string.Join(", ", receiver.Value.RemoteNodes.Select(n => n.AETitle))})"]
            : [];
        return Task.FromResult(errors);
    }

    public async Task<BuiltInResult> ExecuteAsync(BuiltInContext context, CancellationToken ct)
    {
        var ae = context.Parameters["node"]!.GetValue<string>();
        if (receiver.Value.FindRemoteNode(ae) is not { } node) return BuiltInResult.Fail($"no remote node '{ae}' is configured any more");

        var sops = context.Input.Select(i => i.Sop).ToList();
        var rows = new Dictionary<string, (string SopClass, string Syntax, string Path)>(StringComparer.Ordinal);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            foreach (var chunk in sops.Chunk(500))
                foreach (var r in await db.Instances.AsNoTracking().Where(i => chunk.Contains(i.SOPInstanceUID))
                             .Select(i => new { i.SOPInstanceUID, i.SOPClassUID, i.TransferSyntaxUID, i.StoragePath }).ToListAsync(ct))
                    rows[r.SOPInstanceUID] = (r.SOPClassUID, r.TransferSyntaxUID, r.StoragePath);

        var reports = new List<InstanceReport>();
        foreach (var sop in sops.Where(s => !rows.ContainsKey(s))) reports.Add(new InstanceReport(sop, null, false, "no longer in the archive"));
        var present = sops.Where(rows.ContainsKey).ToList();
        if (present.Count > 0)
        {
            var contexts = present.Select(s => (rows[s].SopClass, rows[s].Syntax)).Distinct().Take(DicomClient.MaxPresentationContexts)
                .Select(k => new DicomPresentationContextRequest(k.SopClass,
                    new[] { k.Syntax }.Concat(DicomPresentationContextRequest.UncompressedTransferSyntaxes).Distinct().ToArray()))
                .ToList();
            var callingAe = string.IsNullOrWhiteSpace(receiver.Value.AETitle) ? kaapana.Value.Archive.DefaultAETitle : receiver.Value.AETitle.Trim();
            var client = new DicomClient(new DicomClientOptions
            {
                Host = node.Host, Port = node.Port, CalledAE = node.AETitle.Trim(), CallingAE = callingAe,
                ConnectTimeout = TimeSpan.FromSeconds(15), ResponseTimeout = TimeSpan.FromMinutes(5),
            }, loggerFactory: loggerFactory);
            await context.Log($"connecting to {node.AETitle} at {node.Host}:{node.Port} as {callingAe} ({present.Count} instances)");
            DicomAssociation association;
            try
            {
                association = await client.ConnectAsync(contexts, ct: ct);
            }
            catch (DicomNetworkException e)
            {
                return BuiltInResult.Fail($"could not send to {node.AETitle} at {node.Host}:{node.Port}: {e.Message}",
                    new JsonObject { ["instances"] = sops.Count, ["stored"] = 0, ["failed"] = sops.Count });
            }
            await using (association)
            {
                foreach (var sop in present)
                {
                    ct.ThrowIfCancellationRequested();
                    if (!association.IsOpen)
                    {
                        reports.Add(new InstanceReport(sop, null, false, $"association ended: {association.EndReason}"));
                        continue;
                    }
                    try
                    {
                        await using var stream = storage.OpenRead(rows[sop].Path);
                        var rsp = await association.StoreAsync(stream, ct: ct);
                        reports.Add(new InstanceReport(sop, rsp.Status.ToString(), rsp.Status.IsSuccessOrWarning,
                            rsp.Status.IsSuccessOrWarning ? null : rsp.ErrorComment ?? rsp.Status.Description, rsp.Status.Code));
                    }
                    catch (Exception e) when (e is DicomException or IOException or UnauthorizedAccessException)
                    {
                        reports.Add(new InstanceReport(sop, null, false, e.Message));
                    }
                }
                if (association.IsOpen) await association.ReleaseAsync(ct);
            }
        }

        var failed = reports.Where(r => !r.Stored).ToList();
        var metrics = new JsonObject { ["instances"] = sops.Count, ["stored"] = reports.Count - failed.Count, ["failed"] = failed.Count };
        // One column per DIMSE status the peer answered, e.g. status_0000 = 12, status_B000 = 1.
        foreach (var g in reports.Where(r => r.StatusCode is not null).GroupBy(r => r.StatusCode!.Value).OrderBy(g => g.Key))
            metrics[$"status_{g.Key:X4}"] = g.Count();
        await WriteReportAsync(context, node, reports, ct);
        await context.Log($"{node.AETitle}: {reports.Count - failed.Count} stored, {failed.Count} failed");
        if (failed.Count == 0) return BuiltInResult.Ok(metrics);
        return BuiltInResult.Fail($"{failed.Count} of {sops.Count} instances were not stored on {node.AETitle}: " +
            string.Join("; ", failed.Take(ListedFailures).Select(f => $"{f.SopInstanceUid}: {f.Status ?? ""}{(f.Status is not null && f.Error is not null ? " " : "")}{f.Error}")) +
            (failed.Count > ListedFailures ? $"; and {failed.Count - ListedFailures} more (see {ReportName})" : ""), metrics);
    }

    private async Task WriteReportAsync(BuiltInContext context, RemoteNodeOptions node, List<InstanceReport> reports, CancellationToken ct)
    {
        var dir = paths.ArtifactDir(context.Run.Id, context.Item.Id);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, ReportName);
        var json = JsonSerializer.SerializeToUtf8Bytes(new { node = node.AETitle, host = node.Host, port = node.Port, instances = reports }, Indented);
        await File.WriteAllBytesAsync(path, json, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.RunArtifacts.Add(new RunArtifact
        {
            RunId = context.Run.Id, RunItemId = context.Item.Id, Name = ReportName, StoragePath = paths.Relative(path), Size = json.Length,
            Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(json)), CreatedAt = DateTime.UtcNow,
        });
        await db.SaveChangesAsync(ct);
    }
}
