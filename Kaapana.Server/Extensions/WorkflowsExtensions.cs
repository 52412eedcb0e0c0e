using Hangfire;
using Kaapana.Core;
using Kaapana.Core.Workflows;
using Kaapana.Core.Workflows.BuiltIn;
using Kaapana.Core.Workflows.Docker;
using Kaapana.Core.Workflows.Engine;
using Kaapana.Core.Workflows.Events;
using Kaapana.Core.Workflows.Results;
using Kaapana.Core.Workflows.Runs;
using Kaapana.Core.Workflows.Triggers;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Server.Apis;
using Kaapana.Server.Workflows;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Extensions;

public static class WorkflowsExtensions
{
    /// <summary>
    /// The workflow engine: the Docker container runner (<c>Kaapana:Docker</c>), algorithm registry, runs, item execution
    /// as Hangfire jobs on their own <c>workflows</c> queue with as many workers as container slots (<c>Kaapana:Workflows</c>),
    /// and start-up recovery. Needs <see cref="JobsExtensions.AddKaapanaJobs"/> and the archive. The server starts without
    /// a reachable Docker engine; runs then fail and the API says the engine is unavailable.
    /// </summary>
    public static IHostApplicationBuilder AddKaapanaWorkflows(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DockerOptions>().BindConfiguration(DockerOptions.SectionName);
        services.AddOptions<WorkflowOptions>().BindConfiguration(WorkflowOptions.SectionName)
            .Validate(o => o.CpuSlots >= 1 && o.GpuSlots >= 0, "Kaapana:Workflows:CpuSlots must be at least 1 and GpuSlots not negative.");
        services.AddSingleton<IContainerRunner, DockerContainerRunner>();
        services.AddSingleton(sp => new WorkflowPaths(sp.GetRequiredService<IOptions<KaapanaOptions>>().Value.DataDir));
        services.AddSingleton<WorkflowEngineState>();
        services.AddSingleton<RunEvents>();
        services.AddSignalR();
        services.AddSingleton<ContainerSlots>();
        services.AddSingleton<RunningItems>();
        services.AddSingleton<AlgorithmRegistry>();
        services.AddSingleton<WorkflowRuns>();
        services.AddSingleton<LaunchTargets>();
        services.AddSingleton<InputStager>();
        services.AddSingleton<OutputCollector>();
        services.AddSingleton<RunResults>();
        services.AddSingleton<RunItemExecutor>();
        services.AddSingleton<IRunItemQueue, HangfireRunItemQueue>();
        services.AddTransient<RunItemJob>();
        services.AddSingleton<TriggerRules>();
        services.AddSingleton<TriggerFirer>();
        services.AddScoped<ISeriesCompletedHandler, TriggerOnSeriesCompleted>();

        // Built-in algorithms (Workflows/BuiltIn): seeded as algorithms at start-up, executed in-process without Docker.
        services.AddSingleton<IBuiltInWorkflow, SendToNodeWorkflow>();
        services.AddSingleton<IBuiltInWorkflow, ZipExportWorkflow>();
        services.AddSingleton<IBuiltInWorkflow, DeidentifyWorkflow>();
        services.AddSingleton<IBuiltInWorkflow, DeleteSeriesWorkflow>();
        services.AddSingleton<BuiltInWorkflows>();
        services.AddSingleton<BuiltInItemRunner>();
        services.AddSingleton<DeidentificationKeys>();
        services.AddSingleton<RunUsers>();
        services.AddHostedService<BuiltInAlgorithmSeeder>();

        // Recovery first (hosted services start in registration order), then the workers that execute items.
        services.AddHostedService<WorkflowStartup>();
        services.AddHostedService<TriggerCatchUp>();
        services.AddHangfireServer((sp, options) =>
        {
            var workflows = sp.GetRequiredService<IOptions<WorkflowOptions>>().Value;
            options.ServerName = $"{Environment.MachineName}:workflows";
            options.Queues = [RunItemJob.Queue];
            options.WorkerCount = workflows.CpuSlots + workflows.GpuSlots;
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapKaapanaWorkflows(this IEndpointRouteBuilder app)
    {
        app.MapWorkflowsApi();
        app.MapTriggersApi();
        app.MapHub<RunsHub>(RunsHub.Path);
        return app;
    }
}
