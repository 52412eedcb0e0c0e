using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Core.Workflows.Results;
using Kaapana.Core.Workflows.Runs;
using Kaapana.Tests.Archive;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kaapana.Tests.Workflows.BuiltIn;

/// <summary>
/// Archive + Hangfire + workflow engine as the server composes them, with the Docker endpoint pointing at a socket that does
/// not exist: every built-in test therefore also shows that built-ins need no container engine. Remote DICOM nodes come from
/// <c>Kaapana:Dicom:RemoteNodes</c> as in the server.
/// </summary>
public sealed class BuiltInTestHost : WorkflowEngineHost
{
    private BuiltInTestHost(IHost host, string dataDir) : base(host, dataDir, ownsDir: true)
    {
    }

    public string ArchiveDir => Path.Combine(DataDir, "archive");
    public RunResults Results => Services.GetRequiredService<RunResults>();
    public IProjectCatalog Projects => Services.GetRequiredService<IProjectCatalog>();
    public IIngestService Ingest => Services.GetRequiredService<IIngestService>();

    public static async Task<BuiltInTestHost> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-builtin-").FullName;
        var host = await StartHostAsync(dataDir, new Dictionary<string, string?>
        {
            ["Kaapana:Docker:Endpoint"] = $"unix:///tmp/kaapana-no-docker-{Guid.NewGuid():N}.sock",
            ["Kaapana:Workflows:CpuSlots"] = "2",
        }, settings);
        var result = new BuiltInTestHost(host, dataDir);
        var engine = await host.Services.GetRequiredService<IContainerRunner>().PingAsync();
        Assert.False(engine.Available, "these tests must run without a reachable Docker engine");
        return result;
    }

    public async Task<Algorithm> BuiltInAsync(string name)
    {
        await using var db = CreateDb();
        var a = await db.Algorithms.AsNoTracking().FirstOrDefaultAsync(x => x.Name == name);
        Assert.True(a is not null, $"built-in {name} was not seeded");
        Assert.Equal(AlgorithmKind.BuiltIn, a.Kind);
        return a;
    }

    /// <summary>Ingests CT series of generated instances into <paramref name="project"/>; returns their series UIDs.</summary>
    public async Task<List<string>> SeedSeriesAsync(string project, int seriesCount, int instances = 2)
    {
        var study = TestInstances.NewUid();
        var series = new List<string>();
        for (int s = 0; s < seriesCount; s++)
        {
            var uid = TestInstances.NewUid();
            series.Add(uid);
            for (int i = 1; i <= instances; i++)
            {
                using var ms = new MemoryStream(TestInstances.Create(new TestInstances.Spec("P-" + study[^6..], "Builtin^Test", study, uid, TestInstances.NewUid(),
                    InstanceNumber: i, SeriesNumber: s + 1)));
                var result = await Ingest.IngestAsync(ms, new IngestContext { Project = project });
                Assert.True(result.IsSuccess, result.Reason);
            }
        }
        return series;
    }

    public async Task<int> ProjectAsync(string name) =>
        (await Projects.FindProjectAsync(name) ?? await Projects.CreateProjectAsync(name)).Id;

    /// <summary>A dataset of these series in the project, frozen; its version id.</summary>
    public async Task<long> FreezeAsync(string project, IReadOnlyList<string> series)
    {
        var projectId = await ProjectAsync(project);
        var dataset = await Projects.CreateDatasetAsync(projectId, "cohort-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(series.Count, await Projects.AddSeriesToDatasetAsync(dataset.Id, series));
        return (await Projects.FreezeAsync(dataset.Id)).Id;
    }

    public async Task<RunCommandResult> LaunchAsync(string builtIn, long versionId, JsonObject? parameters = null, string? requestedBy = "test") =>
        await Runs.CreateAsync(new CreateRunRequest((await BuiltInAsync(builtIn)).Id, parameters, versionId, RequestedBy: requestedBy));

    public async Task<long> RunAsync(string builtIn, long versionId, JsonObject? parameters = null, string? requestedBy = "test")
    {
        var result = await LaunchAsync(builtIn, versionId, parameters, requestedBy);
        Assert.True(result.Outcome == RunCommandOutcome.Done, string.Join("\n", result.Errors));
        return result.RunId!.Value;
    }

    /// <summary>An account with a role, as the sign-in's Identity store keeps them (the server's AdminBootstrap is not in this host).</summary>
    public async Task SeedUserAsync(string name, string role)
    {
        await using var db = CreateDb();
        var roleRow = await db.Roles.FirstOrDefaultAsync(r => r.Name == role);
        if (roleRow is null)
        {
            roleRow = new Microsoft.AspNetCore.Identity.IdentityRole(role) { NormalizedName = role.ToUpperInvariant() };
            db.Roles.Add(roleRow);
        }
        var user = new Kaapana.Core.Auth.KaapanaUser(name) { NormalizedUserName = name.ToUpperInvariant() };
        db.Users.Add(user);
        db.UserRoles.Add(new Microsoft.AspNetCore.Identity.IdentityUserRole<string> { UserId = user.Id, RoleId = roleRow.Id });
        await db.SaveChangesAsync();
    }

    /// <summary>The archive files of a series, by SOP Instance UID.</summary>
    public async Task<Dictionary<string, string>> FilesOfSeriesAsync(string seriesUid)
    {
        await using var db = CreateDb();
        return await db.Instances.AsNoTracking().Where(i => i.Series.SeriesInstanceUID == seriesUid)
            .ToDictionaryAsync(i => i.SOPInstanceUID, i => Path.Combine(ArchiveDir, i.StoragePath));
    }
}
