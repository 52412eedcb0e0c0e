using System.Text.Json.Nodes;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Core.Workflows.Engine;
using Kaapana.Core.Workflows.Results;
using Kaapana.Core.Workflows.Runs;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Workflows.Docker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kaapana.Tests.Workflows.Engine;

/// <summary>
/// Archive + Hangfire + workflow engine as the server composes them (AddKaapanaIndex, AddKaapanaArchive, AddKaapanaJobs,
/// AddKaapanaWorkflows), in a generic host on a temporary data folder, running containers on the test Docker daemon under
/// an instance id of its own (so its start-up reconcile never touches another test's containers).
/// </summary>
public sealed class WorkflowTestHost : WorkflowEngineHost
{
    private WorkflowTestHost(IHost host, string dataDir, string instanceId, bool ownsDir) : base(host, dataDir, ownsDir)
    {
        InstanceId = instanceId;
    }

    public string InstanceId { get; }
    public AlgorithmRegistry Algorithms => Services.GetRequiredService<AlgorithmRegistry>();
    public RunResults Results => Services.GetRequiredService<RunResults>();
    public IContainerRunner Runner => Services.GetRequiredService<IContainerRunner>();
    public IProjectCatalog Projects => Services.GetRequiredService<IProjectCatalog>();

    /// <param name="dataDir">Reuse a data folder (a restart); null for a fresh one, deleted on dispose.</param>
    public static async Task<WorkflowTestHost> StartAsync(DockerTestEngine docker, string? dataDir = null, string? instanceId = null,
        IDictionary<string, string?>? settings = null)
    {
        bool owns = dataDir is null;
        dataDir ??= Directory.CreateTempSubdirectory("kaapana-workflow-").FullName;
        instanceId ??= "kaapana-engine-test-" + Guid.NewGuid().ToString("N");
        var host = await StartHostAsync(dataDir, new Dictionary<string, string?>
        {
            ["Kaapana:Docker:Endpoint"] = docker.Endpoint,
            ["Kaapana:Docker:InstanceId"] = instanceId,
            ["Kaapana:Workflows:CpuSlots"] = "2",
        }, settings);
        return new WorkflowTestHost(host, dataDir, instanceId, owns);
    }

    /// <summary>Ingests <paramref name="seriesCount"/> CT series of <paramref name="instances"/> instances into the default project, puts them in a new dataset and freezes it.</summary>
    public async Task<(long VersionId, List<string> SeriesUids, string StudyUid)> SeedDatasetAsync(int seriesCount, int instances = 2)
    {
        var ingest = Services.GetRequiredService<IIngestService>();
        var study = TestInstances.NewUid();
        var patient = "P-" + study[^6..];
        var series = new List<string>();
        for (int s = 0; s < seriesCount; s++)
        {
            var uid = TestInstances.NewUid();
            series.Add(uid);
            for (int i = 1; i <= instances; i++)
            {
                var bytes = TestInstances.Create(new TestInstances.Spec(patient, "Engine^Test", study, uid, TestInstances.NewUid(), InstanceNumber: i, SeriesNumber: s + 1));
                using var ms = new MemoryStream(bytes);
                var result = await ingest.IngestAsync(ms, IngestContext.Default);
                Assert.True(result.IsSuccess, result.Reason);
            }
        }
        var project = await Projects.FindProjectAsync("default") ?? throw new InvalidOperationException("no default project");
        var dataset = await Projects.CreateDatasetAsync(project.Id, "cohort-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(seriesCount, await Projects.AddSeriesToDatasetAsync(dataset.Id, series));
        var version = await Projects.FreezeAsync(dataset.Id);
        return (version.Id, series, study);
    }

    public async Task<Algorithm> RegisterAsync(string image, string? manifestJson)
    {
        var result = await Algorithms.RegisterAsync(new RegisterAlgorithmRequest(image, manifestJson));
        Assert.True(result.Outcome is RegistrationOutcome.Registered or RegistrationOutcome.AlreadyRegistered, string.Join("\n", result.Errors));
        return result.Algorithm!;
    }

    public async Task<long> CreateRunAsync(int algorithmId, long versionId, JsonObject? parameters = null)
    {
        var result = await Runs.CreateAsync(new CreateRunRequest(algorithmId, parameters, versionId, RequestedBy: "test"));
        Assert.True(result.Outcome == RunCommandOutcome.Done, string.Join("\n", result.Errors));
        return result.RunId!.Value;
    }

    public async Task<IReadOnlyList<ManagedContainer>> ContainersAsync() => await Runner.ListContainersAsync();
}
