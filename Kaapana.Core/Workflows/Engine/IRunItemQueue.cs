namespace Kaapana.Core.Workflows.Engine;

/// <summary>
/// The job queue items are executed from (Hangfire in the server). A job calls
/// <see cref="RunItemExecutor.ExecuteAsync"/> with the item and the dispatch number it was enqueued with.
/// </summary>
public interface IRunItemQueue
{
    /// <summary>Enqueues the item's execution; returns the job's ID.</summary>
    string Enqueue(long itemId, int dispatch);

    /// <summary>Removes a job that has not started (a no-op for one that has, or is gone).</summary>
    void Remove(string jobId);
}
