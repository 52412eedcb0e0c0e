using System.Text.Json;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Triggers;
using Kaapana.Dicom;
using Kaapana.Tests.Archive;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Workflows.Triggers;

/// <summary>
/// Trigger rules on the real archive, index and engine without a container engine: which series fire which rule (AND/OR,
/// attribute keywords, the algorithm's input filter, disabled rules), refused runs when the engine is absent, and the
/// start-up catch-up for series that completed while no server was firing rules.
/// </summary>
public sealed class TriggerFiringTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<string> IngestSeriesAsync(TriggerTestHost host, string modality, string bodyPart, string protocol, int instances = 2)
    {
        var study = TestInstances.NewUid();
        var series = TestInstances.NewUid();
        for (int i = 1; i <= instances; i++)
        {
            var ds = TestInstances.CreateDataset(new TestInstances.Spec("TRG-" + study[^5..], "Trigger^Test", study, series, TestInstances.NewUid(),
                Modality: modality, InstanceNumber: i, Extra: protocol));
            ds.Set(DicomTags.BodyPartExamined, bodyPart);
            var result = await host.IngestAsync(TestInstances.ToBytes(ds));
            Assert.True(result.IsSuccess, result.Reason);
        }
        return series;
    }

    private static async Task<List<TriggerFiring>> FiringsAsync(TriggerTestHost host)
    {
        await using var db = host.CreateDb();
        return await db.TriggerFirings.AsNoTracking().OrderBy(f => f.Id).ToListAsync();
    }

    private static async Task WaitForFiringAsync(TriggerTestHost host, int ruleId, string series)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!(await FiringsAsync(host)).Any(f => f.RuleId == ruleId && f.SeriesInstanceUID == series && (f.RunId is not null || f.Error is not null)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"rule {ruleId} did not fire on {series}; firings: {string.Join(", ", (await FiringsAsync(host)).Select(f => $"{f.RuleId}:{f.SeriesInstanceUID}"))}");
            await Task.Delay(100);
        }
    }

    private static HashSet<string> FiredOn(IEnumerable<TriggerFiring> firings, TriggerRuleView rule) =>
        firings.Where(f => f.RuleId == rule.Id).Select(f => f.SeriesInstanceUID).ToHashSet();

    [Fact]
    public async Task Filters_are_AND_across_keywords_and_OR_within_attribute_keywords_match_and_without_an_engine_each_firing_is_a_refused_run()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-triggers-").FullName;
        try
        {
            await using var host = await TriggerTestHost.StartAsync(dataDir);
            var any = await host.AddAlgorithmAsync("any-input");
            var ctOnly = await host.AddAlgorithmAsync("ct-input", """{"scope":"series","modalities":["CT"]}""");
            var headCtOrMr = await host.CreateRuleAsync("head CT or MR", any, new() { ["Modality"] = ["CT", "MR"], ["BodyPartExamined"] = ["HEAD"] });
            var perfusion = await host.CreateRuleAsync("perfusion protocol", any, new() { ["ProtocolName"] = ["Brain perfusion", "Liver perfusion"] });
            var everything = await host.CreateRuleAsync("everything, CT algorithm", ctOnly, []);
            var disabled = await host.CreateRuleAsync("disabled", any, new() { ["Modality"] = ["CT"] }, enabled: false);
            var sentinel = await host.CreateRuleAsync("sentinel", any, new() { ["ProtocolName"] = ["SENTINEL"] });

            var ctHead = await IngestSeriesAsync(host, "CT", "HEAD", "Head routine");
            var mrHeadPerfusion = await IngestSeriesAsync(host, "MR", "HEAD", "Brain perfusion");
            var ctChestPerfusion = await IngestSeriesAsync(host, "CT", "CHEST", "Liver perfusion");
            var ptHead = await IngestSeriesAsync(host, "PT", "HEAD", "Head routine");
            await WaitForFiringAsync(host, headCtOrMr.Id, mrHeadPerfusion);
            await WaitForFiringAsync(host, everything.Id, ctChestPerfusion);
            // Series complete and fire one at a time: once a series sent after all others has fired, every earlier one has been handled.
            var last = await IngestSeriesAsync(host, "MR", "CHEST", "SENTINEL");
            await WaitForFiringAsync(host, sentinel.Id, last);

            var firings = await FiringsAsync(host);
            Assert.Equal(new HashSet<string> { ctHead, mrHeadPerfusion }, FiredOn(firings, headCtOrMr));
            Assert.Equal(new HashSet<string> { mrHeadPerfusion, ctChestPerfusion }, FiredOn(firings, perfusion));
            Assert.Equal(new HashSet<string> { ctHead, ctChestPerfusion }, FiredOn(firings, everything)); // the input filter: CT only
            Assert.Empty(FiredOn(firings, disabled));
            Assert.Equal(new HashSet<string> { last }, FiredOn(firings, sentinel));
            Assert.DoesNotContain(firings, f => f.SeriesInstanceUID == ptHead && f.RuleId != everything.Id);

            // Each firing is a run on that one series, carrying its rule, recorded as refused because no engine answers.
            await using var db = host.CreateDb();
            foreach (var firing in firings)
            {
                Assert.NotNull(firing.RunId);
                var run = await db.WorkflowRuns.SingleAsync(r => r.Id == firing.RunId);
                Assert.Equal(firing.RuleId, run.TriggerRuleId);
                Assert.Equal(WorkState.Failed, run.State);
                Assert.Equal([firing.SeriesInstanceUID], JsonSerializer.Deserialize<string[]>(run.SeriesSelectionJson!)!);
                var item = await db.RunItems.SingleAsync(i => i.RunId == run.Id);
                Assert.Equal(WorkState.Failed, item.State);
                Assert.Contains("container engine is unavailable", item.Error);
                Assert.Null(item.JobId);
            }
            Assert.Equal(firings.Count, await db.WorkflowRuns.CountAsync());

            var views = await host.Rules.ListAsync();
            var view = views.Single(v => v.Id == headCtOrMr.Id);
            Assert.Equal(2, view.Firings);
            Assert.Equal(WorkState.Failed, view.LastFiring!.RunState);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task After_a_restart_series_completed_without_a_firing_are_caught_up_once_and_nothing_older_than_the_rule_fires()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-triggers-catchup-").FullName;
        try
        {
            string before, missed, interrupted, mr;
            int ruleId;
            await using (var host = await TriggerTestHost.StartAsync(dataDir))
            {
                var algorithm = await host.AddAlgorithmAsync("catch-up");
                // Completed before the rule existed: neither live nor catch-up firing may pick it up.
                before = await IngestSeriesAsync(host, "CT", "CHEST", "Thorax");
                await WaitCompleteAsync(host, before);
                ruleId = (await host.CreateRuleAsync("ct", algorithm, new() { ["Modality"] = ["CT"] })).Id;
            }

            // The archive without the workflow engine: series complete and nobody fires rules, as when the server stops
            // between a series' completion and its firing.
            await using (var archive = await ArchiveTestHost.StartAsync(dataDir))
            {
                using var cts = new CancellationTokenSource(Timeout);
                var events = archive.Events.SubscribeSeriesCompleted(cts.Token);
                var study = TestInstances.NewUid();
                var uids = new List<string>();
                foreach (var modality in new[] { "CT", "CT", "MR" })
                {
                    var series = TestInstances.NewUid();
                    uids.Add(series);
                    Assert.True((await archive.IngestAsync(TestInstances.Create(new TestInstances.Spec("CU", "Catch^Up", study, series, TestInstances.NewUid(), Modality: modality)))).IsSuccess);
                }
                var completed = new HashSet<string>();
                while (completed.Count < 3) completed.Add((await events.ReadAsync(cts.Token)).SeriesInstanceUID);
                (missed, interrupted, mr) = (uids[0], uids[1], uids[2]);

                // A firing claimed by a process that died before it created the run (the claim row is all that exists).
                await using var db = archive.CreateDb();
                db.TriggerFirings.Add(new TriggerFiring { RuleId = ruleId, SeriesInstanceUID = interrupted, FiredAt = DateTime.UtcNow.AddMinutes(-1) });
                await db.SaveChangesAsync();
            }

            await using (var host = await TriggerTestHost.StartAsync(dataDir))
            {
                await WaitForFiringAsync(host, ruleId, missed);
                await WaitForFiringAsync(host, ruleId, interrupted);
                Assert.Equal(0, await host.Firer.CatchUpAsync()); // nothing left, and nothing fires twice
                var firings = await FiringsAsync(host);
                Assert.Equal(new HashSet<string> { missed, interrupted }, firings.Select(f => f.SeriesInstanceUID).ToHashSet());
                await using var db = host.CreateDb();
                Assert.Equal(2, await db.WorkflowRuns.CountAsync(r => r.TriggerRuleId == ruleId));
                Assert.All(firings, f => Assert.NotNull(f.RunId));
            }

            // A second restart finds nothing to do.
            await using (var host = await TriggerTestHost.StartAsync(dataDir))
            {
                Assert.Equal(0, await host.Firer.CatchUpAsync());
                await using var db = host.CreateDb();
                Assert.Equal(2, await db.TriggerFirings.CountAsync());
                Assert.Equal(2, await db.WorkflowRuns.CountAsync());
                Assert.DoesNotContain(await db.TriggerFirings.Select(f => f.SeriesInstanceUID).ToListAsync(), s => s == before || s == mr);
            }
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task WaitCompleteAsync(TriggerTestHost host, string series)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            await using (var db = host.CreateDb())
                if (await db.Series.AnyAsync(s => s.SeriesInstanceUID == series && s.IsComplete)) return;
            Assert.True(DateTime.UtcNow < deadline, $"series {series} did not complete");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_rule_is_checked_as_a_whole_and_every_problem_is_reported()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-triggers-rules-").FullName;
        try
        {
            await using var host = await TriggerTestHost.StartAsync(dataDir);
            var algorithm = await host.AddAlgorithmAsync("checked");
            await host.CreateRuleAsync("taken", algorithm, []);

            var errors = await host.Rules.ValidateAsync(new TriggerRuleInput("taken", "nowhere",
                new Dictionary<string, IReadOnlyList<string>> { ["Modalty"] = ["CT"], ["BodyPartExamined"] = [" ", ""], ["ReferencedImageSequence"] = ["x"] },
                algorithm, new System.Text.Json.Nodes.JsonObject { ["lower"] = 5000, ["upper"] = 1 }));
            Assert.Contains("name: a rule named 'taken' exists", errors);
            Assert.Contains("project: no project 'nowhere'", errors);
            Assert.Contains(errors, e => e.StartsWith("filter Modalty: not a DICOM keyword", StringComparison.Ordinal) && e.Contains("did you mean Modality?"));
            Assert.Contains("filter BodyPartExamined: give at least one value", errors);
            Assert.Contains(errors, e => e.StartsWith("filter ReferencedImageSequence: not a DICOM keyword", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.StartsWith("parameter lower:", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.StartsWith("parameter upper: unknown parameter", StringComparison.Ordinal));

            Assert.Equal(["name: required", "project: required", "algorithm: required"],
                await host.Rules.ValidateAsync(new TriggerRuleInput(" ", null, null, null, null)));
            Assert.Equal(["algorithm: no algorithm 999"], await host.Rules.ValidateAsync(new TriggerRuleInput("x", "default", null, 999, null)));

            // A valid rule saves normalised: keywords in their dictionary spelling (JSON clients camel-case keys), values trimmed, distinct and sorted.
            var saved = await host.Rules.CreateAsync(new TriggerRuleInput("ok", "default",
                new Dictionary<string, IReadOnlyList<string>> { ["modality"] = [" MR", "CT", "CT"], ["ProtocolName"] = ["Brain"] }, algorithm,
                new System.Text.Json.Nodes.JsonObject { ["lower"] = 100 }), "someone");
            Assert.Equal(TriggerCommandOutcome.Done, saved.Outcome);
            Assert.Equal(["CT", "MR"], saved.Rule!.Filters["Modality"]);
            Assert.Equal("someone", saved.Rule.CreatedBy);

            // Disabling and enabling; an update may not take another rule's name.
            Assert.False((await host.Rules.SetEnabledAsync(saved.Rule.Id, false)).Rule!.Enabled);
            var renamed = await host.Rules.UpdateAsync(saved.Rule.Id, new TriggerRuleInput("taken", "default", null, algorithm, null));
            Assert.Equal(TriggerCommandOutcome.Invalid, renamed.Outcome);
            Assert.True(await host.Rules.DeleteAsync(saved.Rule.Id));
            Assert.Equal(TriggerCommandOutcome.NotFound, (await host.Rules.SetEnabledAsync(saved.Rule.Id, true)).Outcome);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
