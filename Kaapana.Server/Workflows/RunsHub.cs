using System.Runtime.CompilerServices;
using Kaapana.Core.Access;
using Kaapana.Core.Workflows.Events;
using Kaapana.Core.Workflows.Runs;
using Microsoft.AspNetCore.SignalR;

namespace Kaapana.Server.Workflows;

/// <summary>
/// SignalR hub at <c>/hubs/runs</c> relaying the engine's <see cref="RunEvents"/> to external clients: a client calls the
/// streaming method <c>Events</c> with a run id (or null for every run) and receives item state changes, run state
/// changes and log lines (JSON with a <c>kind</c> of <c>itemState</c>, <c>runState</c> or <c>log</c>) until it stops the
/// stream. Sits behind the same authorization as the REST API, and a client receives only events of runs whose project it
/// may read (a run it may not read streams nothing, as a run that does not exist).
/// </summary>
public sealed class RunsHub(RunEvents events, IAccessControl access, WorkflowRuns runs) : Hub
{
    public const string Path = "/hubs/runs";

    public async IAsyncEnumerable<RunEvent> Events(long? runId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The connection's user, resolved once per stream (a circuit-style caller does not exist here: this is a WebSocket).
        var scope = await access.ResolveAsync(Context.User ?? new System.Security.Claims.ClaimsPrincipal(), cancellationToken);
        var visible = new Dictionary<long, bool>();
        using var subscription = events.Subscribe(runId);
        await foreach (var e in subscription.ReadAllAsync(cancellationToken))
        {
            // A run's project never changes, so one look-up per run and stream is enough.
            if (!visible.TryGetValue(e.RunId, out var ok))
                visible[e.RunId] = ok = await runs.VisibleProjectAsync(e.RunId, scope, cancellationToken) is not null;
            if (ok) yield return e;
        }
    }
}
