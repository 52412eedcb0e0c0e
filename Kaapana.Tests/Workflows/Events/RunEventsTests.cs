using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Events;

namespace Kaapana.Tests.Workflows.Events;

/// <summary>The in-process run event broadcaster: per-run filtering, the lagging subscriber's bound, the end of a subscription.</summary>
public sealed class RunEventsTests
{
    [Fact]
    public async Task A_subscriber_gets_its_runs_events_in_order_and_an_all_runs_subscriber_gets_every_run()
    {
        var events = new RunEvents();
        using var one = events.Subscribe(1);
        using var all = events.Subscribe();
        events.Publish(new ItemStateChanged(1, 10, WorkState.Running, 1));
        events.Publish(new ItemLogLine(2, 20, 1, false, "other run"));
        events.Publish(new ItemLogLine(1, 10, 1, true, "err"));
        events.Publish(new RunStateChanged(1, WorkState.Succeeded));
        one.Dispose();
        all.Dispose();

        var mine = await one.ReadAllAsync().ToListAsync();
        Assert.Equal([typeof(ItemStateChanged), typeof(ItemLogLine), typeof(RunStateChanged)], mine.Select(e => e.GetType()));
        Assert.All(mine, e => Assert.Equal(1, e.RunId));
        Assert.Equal(4, (await all.ReadAllAsync().ToListAsync()).Count);
    }

    [Fact]
    public async Task A_subscriber_that_falls_behind_loses_its_oldest_events_not_the_publisher_its_pace()
    {
        var events = new RunEvents();
        using var slow = events.Subscribe(5);
        int published = RunEvents.SubscriberCapacity + 100;
        for (int i = 0; i < published; i++) events.Publish(new ItemLogLine(5, 1, 1, false, $"line {i}"));
        slow.Dispose();

        var kept = (await slow.ReadAllAsync().ToListAsync()).Cast<ItemLogLine>().ToList();
        Assert.Equal(RunEvents.SubscriberCapacity, kept.Count);
        Assert.Equal("line 100", kept[0].Text);
        Assert.Equal($"line {published - 1}", kept[^1].Text);
    }

    [Fact]
    public async Task After_dispose_nothing_more_arrives_and_publishing_without_subscribers_is_harmless()
    {
        var events = new RunEvents();
        var s = events.Subscribe();
        s.Dispose();
        events.Publish(new RunStateChanged(1, WorkState.Queued));
        Assert.Empty(await s.ReadAllAsync().ToListAsync());
    }
}
