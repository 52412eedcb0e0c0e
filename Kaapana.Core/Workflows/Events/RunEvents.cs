using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Kaapana.Core.Workflows.Events;

/// <summary>
/// In-process broadcaster of <see cref="RunEvent"/>s: the engine publishes, pages and the SignalR hub subscribe. Each
/// subscriber has its own bounded queue that drops its oldest events when it falls behind (a container flooding stdout
/// must never slow the executor); state events are small and rare, and a page reloads state from the index on each, so
/// a dropped log line is the only possible loss. Publishing without subscribers costs a dictionary check.
/// </summary>
public sealed class RunEvents
{
    /// <summary>Events a subscriber may lag behind before its oldest are dropped.</summary>
    public const int SubscriberCapacity = 4096;

    private readonly ConcurrentDictionary<long, Subscription> _subscribers = new();
    private long _next;

    public void Publish(RunEvent e)
    {
        if (_subscribers.IsEmpty) return;
        foreach (var s in _subscribers.Values)
            if (s.RunId is null || s.RunId == e.RunId)
                s.Writer.TryWrite(e);
    }

    /// <summary>Events of one run (or of all runs when <paramref name="runId"/> is null) from now on, until disposed.</summary>
    public Subscription Subscribe(long? runId = null)
    {
        var id = Interlocked.Increment(ref _next);
        var channel = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false,
        });
        var subscription = new Subscription(this, id, runId, channel);
        _subscribers[id] = subscription;
        return subscription;
    }

    /// <summary>A subscriber's queue; <see cref="ReadAllAsync"/> ends when it is disposed.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly RunEvents _owner;
        private readonly long _id;
        private readonly Channel<RunEvent> _channel;

        internal Subscription(RunEvents owner, long id, long? runId, Channel<RunEvent> channel)
        {
            _owner = owner;
            _id = id;
            RunId = runId;
            _channel = channel;
        }

        public long? RunId { get; }

        internal ChannelWriter<RunEvent> Writer => _channel.Writer;

        public IAsyncEnumerable<RunEvent> ReadAllAsync(CancellationToken ct = default) => _channel.Reader.ReadAllAsync(ct);

        public void Dispose()
        {
            _owner._subscribers.TryRemove(_id, out _);
            _channel.Writer.TryComplete();
        }
    }
}
