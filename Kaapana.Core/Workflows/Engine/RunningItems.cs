using System.Collections.Concurrent;

namespace Kaapana.Core.Workflows.Engine;

/// <summary>The items executing in this process, with the token that cancels each on a user's request.</summary>
public sealed class RunningItems
{
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _items = new();

    public CancellationTokenSource Register(long itemId)
    {
        var cts = new CancellationTokenSource();
        _items[itemId] = cts;
        return cts;
    }

    public void Unregister(long itemId, CancellationTokenSource cts)
    {
        _items.TryRemove(new KeyValuePair<long, CancellationTokenSource>(itemId, cts));
        cts.Dispose();
    }

    /// <summary>Signals the item's execution to stop; false when it does not run here.</summary>
    public bool Cancel(long itemId)
    {
        if (!_items.TryGetValue(itemId, out var cts)) return false;
        try
        {
            cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        return true;
    }

    public IReadOnlyCollection<long> Ids => [.. _items.Keys];
}
