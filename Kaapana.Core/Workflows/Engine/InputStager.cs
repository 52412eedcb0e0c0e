using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Storage;
using Kaapana.Core.Workflows.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Workflows.Engine;

/// <summary>
/// Builds an item's <c>/input</c> folder (the container contract in Workflows/README.md): <c>series/&lt;Series UID&gt;/&lt;SOP UID&gt;.dcm</c>
/// for each instance — a hard link to the archive file where the file system allows, else a copy — plus
/// <c>manifest.json</c> (items, UIDs, key metadata) and <c>params.json</c>.
/// </summary>
public sealed class InputStager(IDbContextFactory<KaapanaDbContext> dbFactory, IArchiveStorage storage, IOptions<KaapanaOptions> options)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>How the files got there, for the log.</summary>
    public sealed record StageResult(int Linked, int Copied);

    public async Task<StageResult> StageAsync(WorkflowRun run, RunItem item, string inputDir, CancellationToken ct)
    {
        if (Directory.Exists(inputDir)) Directory.Delete(inputDir, recursive: true);
        Directory.CreateDirectory(inputDir);
        var input = WorkflowRuns.ReadInput(item);
        var sops = input.Select(i => i.Sop).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = new Dictionary<string, InstanceRow>(StringComparer.Ordinal);
        foreach (var chunk in sops.Chunk(500))
            foreach (var r in await db.Instances.AsNoTracking().Where(i => chunk.Contains(i.SOPInstanceUID)).Select(i => new InstanceRow(
                             i.SOPInstanceUID, i.SOPClassUID, i.InstanceNumber, i.StoragePath, i.Series.SeriesInstanceUID, i.Series.Modality,
                             i.Series.SeriesDescription, i.Series.SeriesNumber, i.Series.Study.StudyInstanceUID, i.Series.Study.StudyDate,
                             i.Series.Study.StudyDescription, i.Series.Study.Patient.PatientID)).ToListAsync(ct))
                rows[r.Sop] = r;
        var missing = sops.FirstOrDefault(s => !rows.ContainsKey(s));
        if (missing is not null) throw new InputMissingException($"instance {missing} of the input is no longer in the archive");

        int linked = 0, copied = 0;
        var seriesNodes = new JsonArray();
        foreach (var series in input.GroupBy(i => i.Series))
        {
            var folder = $"series/{series.Key}";
            var dir = Path.Combine(inputDir, "series", series.Key);
            Directory.CreateDirectory(dir);
            var instances = new JsonArray();
            InstanceRow? first = null;
            foreach (var instance in series)
            {
                ct.ThrowIfCancellationRequested();
                var row = rows[instance.Sop];
                first ??= row;
                var target = Path.Combine(dir, instance.Sop + ".dcm");
                if (TryHardLink(Path.Combine(options.Value.ArchiveDir, row.StoragePath), target)) linked++;
                else
                {
                    await using (var source = storage.OpenRead(row.StoragePath))
                    await using (var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
                        await source.CopyToAsync(file, ct);
                    copied++;
                }
                instances.Add(new JsonObject
                {
                    ["sopInstanceUID"] = row.Sop, ["sopClassUID"] = row.SopClass, ["instanceNumber"] = row.InstanceNumber,
                    ["file"] = $"{folder}/{row.Sop}.dcm",
                });
            }
            seriesNodes.Add(new JsonObject
            {
                ["studyInstanceUID"] = first!.Study, ["seriesInstanceUID"] = series.Key, ["patientID"] = first.PatientID,
                ["modality"] = first.Modality, ["seriesDescription"] = first.SeriesDescription, ["seriesNumber"] = first.SeriesNumber,
                ["studyDate"] = first.StudyDate, ["studyDescription"] = first.StudyDescription, ["folder"] = folder, ["instances"] = instances,
            });
        }
        var manifest = new JsonObject
        {
            ["run"] = run.Id, ["item"] = item.Id, ["itemKey"] = item.ScopeKey,
            ["algorithm"] = new JsonObject { ["name"] = run.AlgorithmName, ["version"] = run.AlgorithmVersion },
            ["series"] = seriesNodes,
        };
        await File.WriteAllTextAsync(Path.Combine(inputDir, "manifest.json"), manifest.ToJsonString(Indented), ct);
        await File.WriteAllTextAsync(Path.Combine(inputDir, "params.json"), JsonNode.Parse(run.ParametersJson)!.ToJsonString(Indented), ct);
        return new StageResult(linked, copied);
    }

    private sealed record InstanceRow(
        string Sop, string SopClass, int? InstanceNumber, string StoragePath, string Series, string? Modality, string? SeriesDescription,
        int? SeriesNumber, string Study, string? StudyDate, string? StudyDescription, string PatientID);

    // A hard link costs no space or copy time and the container cannot change it (/input is mounted read-only). It fails
    // across file systems (EXDEV) or where links are not allowed; the caller copies then.
    private static bool TryHardLink(string source, string target) =>
        OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? Native.link(source, target) == 0 : false;

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldpath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newpath);
    }
}

/// <summary>An item's input is gone from the archive (deleted after the run was created).</summary>
public sealed class InputMissingException(string message) : Exception(message);
