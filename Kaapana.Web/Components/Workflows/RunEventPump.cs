using System.Collections.Concurrent;
using Kaapana.Core.Workflows.Events;

namespace Kaapana.Web.Components.Workflows;

/// <summary>
/// Feeds a page the engine's run events in batches, at most every <see cref="Interval"/>: a container printing thousands of
/// lines a second then costs a page a few renders a second, not one per line. The batch handler runs on the caller's
/// dispatcher (pass a lambda that wraps <c>InvokeAsync</c>).
/// </summary>
public sealed class RunEventPump : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly RunEvents.Subscription _subscription;
    private readonly ConcurrentQueue<RunEvent> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private readonly Task _flusher;

    public RunEventPump(RunEvents events, long? runId, Func<IReadOnlyList<RunEvent>, Task> onBatch)
    {
        _subscription = events.Subscribe(runId);
        _reader = Task.Run(async () =>
        {
            await foreach (var e in _subscription.ReadAllAsync(_stop.Token)) _pending.Enqueue(e);
        });
        _flusher = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(Interval);
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (_pending.IsEmpty) continue;
                var batch = new List<RunEvent>();
                while (_pending.TryDequeue(out var e)) batch.Add(e);
                try
                {
                    await onBatch(batch);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // One failed refresh (the index busy, a page error) must not end live updates; the next batch tries again.
                    LastError = e;
                }
            }
        });
    }

    /// <summary>The last exception a batch handler threw (kept for diagnosis; the pump carries on).</summary>
    public Exception? LastError { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _subscription.Dispose();
        try
        {
            await Task.WhenAll(_reader, _flusher);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
