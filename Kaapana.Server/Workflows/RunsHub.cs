using System.Runtime.CompilerServices;
using Kaapana.Core.Workflows.Events;
using Microsoft.AspNetCore.SignalR;

namespace Kaapana.Server.Workflows;

/// <summary>
/// SignalR hub at <c>/hubs/runs</c> relaying the engine's <see cref="RunEvents"/> to external clients: a client calls the
/// streaming method <c>Events</c> with a run id (or null for every run) and receives item state changes, run state
/// changes and log lines (JSON with a <c>kind</c> of <c>itemState</c>, <c>runState</c> or <c>log</c>) until it stops the
/// stream. Sits behind the same authorization as the REST API.
/// </summary>
public sealed class RunsHub(RunEvents events) : Hub
{
    public const string Path = "/hubs/runs";

    public async IAsyncEnumerable<RunEvent> Events(long? runId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = events.Subscribe(runId);
        await foreach (var e in subscription.ReadAllAsync(cancellationToken))
            yield return e;
    }
}
