using Hangfire;
using Hangfire.States;
using Kaapana.Core.Workflows.Engine;

namespace Kaapana.Server.Workflows;

/// <summary>Run items as Hangfire jobs on the <c>workflows</c> queue, which only the workflow server's workers take.</summary>
public sealed class HangfireRunItemQueue(IBackgroundJobClient client) : IRunItemQueue
{
    public string Enqueue(long itemId, int dispatch) =>
        client.Create<RunItemJob>(job => job.ExecuteAsync(itemId, dispatch, CancellationToken.None), new EnqueuedState(RunItemJob.Queue));

    public void Remove(string jobId) => client.Delete(jobId);
}
