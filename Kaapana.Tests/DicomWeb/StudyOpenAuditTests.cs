using System.Collections.Concurrent;
using Kaapana.Core.Access;
using Kaapana.Core.Audit;
using Kaapana.Server.DicomWeb;
using Microsoft.AspNetCore.Http;

namespace Kaapana.Tests.DicomWeb;

/// <summary>"Study opened" is written once per user and study per window, also when a viewer's first reads arrive together.</summary>
public sealed class StudyOpenAuditTests
{
    private sealed class Trail : IAuditTrail
    {
        public ConcurrentQueue<AuditEvent> Events { get; } = new();
        public void Record(AuditEvent entry) => Events.Enqueue(entry);
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }

    private static readonly AccessScope Viewer = new("u1", "viewer", false, new Dictionary<int, ProjectRole> { [1] = ProjectRole.Viewer });

    [Fact]
    public async Task Concurrent_first_reads_of_a_study_record_one_entry()
    {
        // Two threads meet at a barrier and open the same study, many times over: the race is narrow.
        for (int round = 0; round < 1000; round++)
        {
            var trail = new Trail();
            var audit = new StudyOpenAudit(trail);
            using var barrier = new Barrier(2);
            var study = "1.2.3." + round;
            var readers = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
            {
                barrier.SignalAndWait();
                audit.Opened(Viewer, study, "metadata", new DefaultHttpContext());
            }, TaskCreationOptions.LongRunning)).ToArray();
            await Task.WhenAll(readers);
            Assert.Single(trail.Events);
        }
    }

    [Fact]
    public void A_new_entry_after_the_window_and_one_per_user_and_study()
    {
        var trail = new Trail();
        var clock = new Clock(DateTimeOffset.Parse("2026-11-27T10:00:00Z"));
        var audit = new StudyOpenAudit(trail, clock);
        var other = new AccessScope("u2", "other", false, new Dictionary<int, ProjectRole> { [1] = ProjectRole.Viewer });
        audit.Opened(Viewer, "1.2.3", "metadata", new DefaultHttpContext());
        audit.Opened(Viewer, "1.2.3", "frames", new DefaultHttpContext());
        audit.Opened(other, "1.2.3", "metadata", new DefaultHttpContext());
        audit.Opened(Viewer, "1.2.4", "metadata", new DefaultHttpContext());
        Assert.Equal(3, trail.Events.Count);
        clock.Advance(StudyOpenAudit.Window - TimeSpan.FromSeconds(1));
        audit.Opened(Viewer, "1.2.3", "metadata", new DefaultHttpContext());
        Assert.Equal(3, trail.Events.Count);
        clock.Advance(TimeSpan.FromSeconds(1));
        audit.Opened(Viewer, "1.2.3", "metadata", new DefaultHttpContext());
        Assert.Equal(4, trail.Events.Count);
        Assert.All(trail.Events, e => Assert.Equal(AuditActions.StudyOpened, e.Action));
    }
}
