namespace Kaapana.Core.Workflows.Engine;

/// <summary>Set once start-up recovery is done; item jobs wait for it so none starts a container before orphans are removed.</summary>
public sealed class WorkflowEngineState
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Ready => _ready.Task;

    public void SetReady() => _ready.TrySetResult();
}
