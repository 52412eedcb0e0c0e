namespace Kaapana.Core.Workflows;

/// <summary>Settings of the workflow engine, bound from <c>Kaapana:Workflows</c> (env: <c>Kaapana__Workflows__*</c>).</summary>
public sealed class WorkflowOptions
{
    public const string SectionName = "Kaapana:Workflows";

    /// <summary>Containers without GPUs this server runs at once.</summary>
    public int CpuSlots { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Containers with GPUs this server runs at once; 0 refuses runs of algorithms that need a GPU.</summary>
    public int GpuSlots { get; set; }

    /// <summary>Keep each item's staged <c>/input</c> and <c>/output</c> folders after it ends (for debugging).</summary>
    public bool KeepWorkFolders { get; set; }

    /// <summary>A log file stops growing at this size (a flooding container); the log then says how much was dropped.</summary>
    public long MaxLogFileBytes { get; set; } = 16L << 20;
}
