using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Workflows.Manifest;
using Kaapana.Dicom;
using Kaapana.Dicom.Deidentification;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>
/// <c>builtin/deidentify</c>: copies each item's instances, de-identified with the PS3.15 Basic Application Level
/// Confidentiality Profile (Kaapana.Dicom/Deidentification) and the chosen options, into another project. UIDs (including
/// references and frames of reference) and patient IDs are remapped with the target project's own key
/// (<see cref="DeidentificationKeys"/>), so a re-run gives the same output there and another project different output.
/// Pixel data is copied as it is. The copies are ingested as new series into the target project and the dataset
/// <c>run-&lt;id&gt; deidentified</c> there, each linked to its source series (provenance); the source is only read.
/// </summary>
public sealed class DeidentifyWorkflow(
    IDbContextFactory<KaapanaDbContext> dbFactory,
    IProjectCatalog catalog,
    IIngestService ingest,
    DeidentificationKeys keys,
    IOptions<KaapanaOptions> options,
    Audit.IAuditTrail? audit = null) : IBuiltInWorkflow
{
    private readonly SemaphoreSlim _datasetLock = new(1, 1);
    private const int ListedProblems = 5;

    public AlgorithmManifest Manifest { get; } = new()
    {
        Name = "builtin/deidentify", Version = "1.0.0", Title = "De-identify into a project", Image = "builtin/deidentify",
        Description = "Copies the input into another project, de-identified with the DICOM PS3.15 Basic Application Level Confidentiality Profile; " +
                      "UIDs and patient IDs are replaced consistently per target project, pixel data is not changed.",
        Input = new InputSpec { Scope = InputScope.Series },
        Parameters =
        [
            new ParameterSpec { Name = "targetProject", Type = ParameterType.String, Required = true, Title = "Target project",
                Help = "Project that receives the de-identified copies; must differ from the source project" },
            new ParameterSpec { Name = "retainDates", Type = ParameterType.Boolean, Default = JsonSerializer.SerializeToElement(false),
                Title = "Retain longitudinal temporal information (full dates)", Help = "Keep dates and times as they are (PS3.15 option 113106)" },
            new ParameterSpec { Name = "retainDeviceIdentity", Type = ParameterType.Boolean, Default = JsonSerializer.SerializeToElement(false),
                Title = "Retain device identity", Help = "Keep station name, device serial number and similar (PS3.15 option 113109)" },
        ],
        Outputs = [OutputKind.Metrics],
    };

    public async Task<IReadOnlyList<string>> ValidateAsync(BuiltInLaunch launch, CancellationToken ct)
    {
        var name = launch.Parameters["targetProject"]?.GetValue<string>()?.Trim() ?? "";
        var target = await catalog.FindProjectAsync(name, ct);
        // A target the caller cannot see is reported exactly as a missing one.
        if (target is null || launch.Scope?.Can(target.Id, Access.ProjectPermission.Read) == false) return [$"parameter targetProject: no project '{name}'"];
        if (target.Id == launch.ProjectId) return [$"parameter targetProject: '{name}' is the source project; de-identified copies must go to another project"];
        return [];
    }

    /// <summary>Copies go into the target project: the caller must curate it (reading the source is implied by Run there).</summary>
    public async Task<string?> ForbiddenAsync(BuiltInLaunch launch, CancellationToken ct)
    {
        var name = launch.Parameters["targetProject"]?.GetValue<string>()?.Trim() ?? "";
        return launch.Scope is { } scope && await catalog.FindProjectAsync(name, ct) is { } target && !scope.Can(target.Id, Access.ProjectPermission.Curate)
            ? $"de-identifying into '{name}' needs Curate there"
            : null;
    }

    public static string DatasetName(WorkflowRun run) => $"run-{run.Id} deidentified";

    public async Task<BuiltInResult> ExecuteAsync(BuiltInContext context, CancellationToken ct)
    {
        var run = context.Run;
        var targetName = context.Parameters["targetProject"]!.GetValue<string>().Trim();
        var target = await catalog.FindProjectAsync(targetName, ct);
        if (target is null) return BuiltInResult.Fail($"target project '{targetName}' no longer exists");
        if (target.Id == run.ProjectId) return BuiltInResult.Fail("the target project is the source project");
        var deidOptions = new DeidentificationOptions
        {
            Dates = context.Parameters["retainDates"]?.GetValue<bool>() == true ? DateHandling.RetainFull : DateHandling.Remove,
            RetainDeviceIdentity = context.Parameters["retainDeviceIdentity"]?.GetValue<bool>() == true,
        };
        var mapping = await keys.MappingForAsync(target.Id, ct);
        var deidentifier = new DicomDeidentifier(deidOptions, mapping);
        var dataset = await EnsureDatasetAsync(target.Id, run, ct);

        // 1. De-identify every instance into the work folder; nothing is ingested unless all of them succeed.
        var sops = context.Input.Select(i => i.Sop).ToList();
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            foreach (var chunk in sops.Chunk(500))
                foreach (var r in await db.Instances.AsNoTracking().Where(i => chunk.Contains(i.SOPInstanceUID)).Select(i => new { i.SOPInstanceUID, i.StoragePath }).ToListAsync(ct))
                    paths[r.SOPInstanceUID] = r.StoragePath;
        var gone = sops.Where(s => !paths.ContainsKey(s)).ToList();
        if (gone.Count > 0) return BuiltInResult.Fail($"{gone.Count} instances of the input are no longer in the archive, e.g. {gone[0]}");
        var outDir = Path.Combine(context.WorkDir, "deidentified");
        Directory.CreateDirectory(outDir);
        var outputs = new List<(string Path, string SourceSeries, string Series)>();
        var problems = new List<string>();
        foreach (var instance in context.Input)
        {
            ct.ThrowIfCancellationRequested();
            var output = Path.Combine(outDir, $"{outputs.Count + problems.Count:D6}.dcm");
            try
            {
                deidentifier.DeidentifyFile(Path.Combine(options.Value.ArchiveDir, paths[instance.Sop]), output);
                outputs.Add((output, instance.Series, mapping.MapUid(instance.Series)));
            }
            catch (Exception e) when (e is DicomException or IOException or InvalidDataException or FormatException or ArgumentException)
            {
                problems.Add($"{instance.Sop}: {e.Message}");
            }
        }
        if (problems.Count > 0)
            return BuiltInResult.Fail($"{problems.Count} instances could not be de-identified: " + string.Join("; ", problems.Take(ListedProblems)));
        await context.Log($"de-identified {outputs.Count} instances ({Describe(deidOptions)}) for project {target.Name}");

        // 2. Provenance links first (incomplete), so a crash mid-ingest is cleaned up by the item's next attempt. A series that an
        // earlier run already put into the target (same key, same output) keeps its link; its instances ingest as duplicates.
        var bySeries = outputs.GroupBy(o => o.Series).ToList();
        var seriesUids = bySeries.Select(g => g.Key).ToList();
        var links = new List<DerivedSeries>();
        int alreadyPresent;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var linked = (await db.DerivedSeries.AsNoTracking().Where(d => seriesUids.Contains(d.SeriesInstanceUID)).Select(d => d.SeriesInstanceUID).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
            alreadyPresent = linked.Count;
            foreach (var g in bySeries.Where(g => !linked.Contains(g.Key)))
                links.Add(new DerivedSeries
                {
                    SeriesInstanceUID = g.Key, RunId = run.Id, RunItemId = context.Item.Id, InstanceCount = g.Count(), Complete = false, CreatedAt = DateTime.UtcNow,
                    SourceSeriesJson = JsonSerializer.Serialize(g.Select(o => o.SourceSeries).Distinct().Order(StringComparer.Ordinal)),
                });
            db.DerivedSeries.AddRange(links);
            await db.SaveChangesAsync(ct);
        }

        // 3. Ingest into the target project through the one ingest pipeline.
        var ingestContext = new IngestContext { Source = IngestSource.Algorithm, Project = target.Name, Dataset = dataset, UploadUser = $"run:{run.Id}" };
        var rejected = new List<string>();
        int stored = 0, duplicates = 0;
        foreach (var (path, _, _) in outputs)
        {
            await using var stream = File.OpenRead(path);
            var result = await ingest.IngestAsync(stream, ingestContext, ct);
            if (!result.IsSuccess || result.ContentDiffers) rejected.Add($"{result.SopInstanceUid}: {result.Reason ?? result.Status.ToString()}");
            else if (result.Status == IngestStatus.Duplicate) duplicates++;
            else stored++;
        }
        var metrics = new JsonObject
        {
            ["instances"] = outputs.Count, ["stored"] = stored, ["alreadyPresent"] = duplicates, ["series"] = seriesUids.Count, ["targetProject"] = target.Name,
        };
        if (rejected.Count > 0)
            return BuiltInResult.Fail($"{rejected.Count} de-identified instances were refused by the archive: " + string.Join("; ", rejected.Take(ListedProblems)), metrics);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var ids = links.Select(l => l.Id).ToList();
            await db.DerivedSeries.Where(d => ids.Contains(d.Id)).ExecuteUpdateAsync(u => u.SetProperty(d => d.Complete, true), ct);
        }
        await context.Log($"ingested into {target.Name} / {dataset}: {stored} new, {duplicates} already there; series {string.Join(", ", seriesUids)}" +
            (alreadyPresent > 0 ? $" ({alreadyPresent} series came from an earlier run and keep its provenance)" : ""));
        audit?.Record(new Audit.AuditEvent(run.RequestedBy ?? "system", Audit.AuditActions.Deidentified, $"run:{run.Id} item:{context.Item.Id}",
            Audit.AuditOutcomes.Success, Details: new { sourceProjectId = run.ProjectId, targetProject = target.Name, instances = sops.Count, stored, duplicates }));
        return BuiltInResult.Ok(metrics);
    }

    private static string Describe(DeidentificationOptions o) =>
        "Basic Profile" + (o.Dates == DateHandling.RetainFull ? ", full dates retained" : "") + (o.RetainDeviceIdentity ? ", device identity retained" : "");

    /// <summary>One results dataset per run in the target project; items run in parallel, so it is made under a lock.</summary>
    private async Task<string> EnsureDatasetAsync(int projectId, WorkflowRun run, CancellationToken ct)
    {
        var name = DatasetName(run);
        await _datasetLock.WaitAsync(ct);
        try
        {
            if (await catalog.FindDatasetAsync(projectId, name, ct) is null)
                await catalog.CreateDatasetAsync(projectId, name, $"De-identified copies made by run {run.Id} ({run.AlgorithmName} {run.AlgorithmVersion}).", ct);
            return name;
        }
        finally
        {
            _datasetLock.Release();
        }
    }
}
