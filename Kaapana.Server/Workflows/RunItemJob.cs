using Hangfire;
using Kaapana.Core.Workflows.Engine;

namespace Kaapana.Server.Workflows;

/// <summary>
/// The Hangfire job of one run item. Hangfire's own retries are off: the engine retries as the manifest says, and a stale
/// job (its item redispatched, cancelled or done) returns without doing anything.
/// </summary>
public sealed class RunItemJob(RunItemExecutor executor)
{
    public const string Queue = "workflows";

    [AutomaticRetry(Attempts = 0)]
    [Queue(Queue)]
    [JobDisplayName("Run item {0} (dispatch {1})")]
    public Task ExecuteAsync(long itemId, int dispatch, CancellationToken cancellationToken) =>
        executor.ExecuteAsync(itemId, dispatch, cancellationToken);
}
