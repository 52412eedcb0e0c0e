using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Workflows.Triggers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kaapana.Tests.Workflows.Triggers;

/// <summary>
/// Archive + jobs + workflow engine (with its triggers) as the server composes them, on a data folder the test owns, with
/// the Docker endpoint pointing at a socket that does not exist: the engine is absent, so every firing becomes a refused run.
/// </summary>
public sealed class TriggerTestHost : WorkflowEngineHost
{
    private TriggerTestHost(IHost host, string dataDir) : base(host, dataDir, ownsDir: false)
    {
    }

    public TriggerRules Rules => Services.GetRequiredService<TriggerRules>();
    public TriggerFirer Firer => Services.GetRequiredService<TriggerFirer>();
    public IArchiveEvents Events => Services.GetRequiredService<IArchiveEvents>();

    public static async Task<TriggerTestHost> StartAsync(string dataDir) =>
        new(await StartHostAsync(dataDir, new Dictionary<string, string?>
        {
            ["Kaapana:Docker:Endpoint"] = $"unix:///tmp/no-docker-{Guid.NewGuid():N}.sock",
            ["Kaapana:Docker:InstanceId"] = "kaapana-trigger-test-" + Guid.NewGuid().ToString("N"),
            ["Kaapana:Workflows:CpuSlots"] = "1",
        }), dataDir);

    public async Task<IngestResult> IngestAsync(byte[] bytes)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        return await Services.GetRequiredService<IIngestService>().IngestAsync(ms, IngestContext.Default);
    }

    /// <summary>
    /// An algorithm row as registration writes it. Registration inspects the image on a container engine, which these
    /// tests deliberately do not have; the row is what a registration made while the engine was still reachable.
    /// </summary>
    public async Task<int> AddAlgorithmAsync(string name, string inputJson = """{"scope":"series"}""")
    {
        await using var db = CreateDb();
        var algorithm = new Algorithm
        {
            Name = name, Version = "1.0.0", ImageReference = "kaapana-test/succeed:latest", ImageDigest = "sha256:" + new string('a', 64),
            ManifestJson = $$"""{"name":"{{name}}","version":"1.0.0","input":{{inputJson}},"parameters":[{"name":"lower","type":"number","default":300,"min":-1024,"max":3071}],"outputs":["metrics"]}""",
            RegisteredAt = DateTime.UtcNow,
        };
        db.Algorithms.Add(algorithm);
        await db.SaveChangesAsync();
        return algorithm.Id;
    }

    public async Task<TriggerRuleView> CreateRuleAsync(string name, int algorithmId, Dictionary<string, IReadOnlyList<string>> filters, bool enabled = true)
    {
        var result = await Rules.CreateAsync(new TriggerRuleInput(name, "default", filters, algorithmId, null, enabled), "test");
        Assert.True(result.Outcome == TriggerCommandOutcome.Done, string.Join("\n", result.Errors));
        return result.Rule!;
    }
}
