using System.Text.Json.Nodes;
using Bunit;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Results;
using Kaapana.Web.Components.Workflows;
using Microsoft.AspNetCore.Components;
using MudBlazor.Services;

namespace Kaapana.Tests.Workflows.Ui;

/// <summary>How the run page shows states, items and metrics (bUnit).</summary>
public sealed class RunStateRenderingTests
{
    private static BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    [Fact]
    public async Task Every_item_state_renders_as_its_own_chip_with_exit_code_retries_and_error()
    {
        await using var ctx = NewContext();
        var start = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var items = Enum.GetValues<WorkState>().Select((s, i) => new RunItem
        {
            Id = 100 + i, RunId = 1, ScopeKey = $"1.2.3.{i}", InputJson = "[]", InstanceCount = i + 1, State = s, Attempt = i % 3,
            ExitCode = s == WorkState.Failed ? 3 : s == WorkState.Succeeded ? 0 : null,
            Error = s == WorkState.Failed ? "exited with code 3; stderr: boom" : null,
            StartedAt = s == WorkState.Queued ? null : start, EndedAt = s is WorkState.Queued or WorkState.Running ? null : start.AddSeconds(12.5),
        }).ToList();
        long? selected = null;
        var cut = ctx.Render<RunItemsTable>(p => p.Add(x => x.Items, items).Add(x => x.SelectedId, 103).Add(x => x.OnSelect, id => selected = id));

        var rows = cut.FindAll("[data-testid=item-row]");
        Assert.Equal(6, rows.Count);
        Assert.Equal(["Queued", "Running", "Succeeded", "Failed", "Cancelled", "TimedOut"], rows.Select(r => r.GetAttribute("data-state")!));
        Assert.Equal(["Queued", "Running", "Succeeded", "Failed", "Cancelled", "TimedOut"], cut.FindAll("[data-testid=item-state]").Select(c => c.TextContent.Trim()));
        var failed = rows[3];
        Assert.Equal("3", failed.QuerySelector("[data-testid=item-exit-code]")!.TextContent.Trim());
        Assert.Contains("stderr: boom", failed.QuerySelector("[data-testid=item-error]")!.TextContent);
        Assert.Contains("12.5 s", rows[2].TextContent);
        Assert.Equal("true", failed.QuerySelector("button")!.GetAttribute("aria-pressed"));

        await cut.InvokeAsync(() => cut.FindAll("[data-testid=item-row]")[5].Click());
        Assert.Equal(105, selected);
    }

    [Theory]
    [InlineData(WorkState.Queued, "Queued")]
    [InlineData(WorkState.Running, "Running")]
    [InlineData(WorkState.Succeeded, "Succeeded")]
    [InlineData(WorkState.Failed, "Failed")]
    [InlineData(WorkState.Cancelled, "Cancelled")]
    [InlineData(WorkState.TimedOut, "TimedOut")]
    public async Task A_state_chip_names_its_state_and_differs_in_colour_between_success_and_failure(WorkState state, string text)
    {
        await using var ctx = NewContext();
        var cut = ctx.Render<StateChip>(p => p.Add(x => x.State, state).Add(x => x.TestId, "run-state"));
        var chip = cut.Find("[data-testid=run-state]");
        Assert.Equal(text, chip.TextContent.Trim());
        Assert.Equal(text, chip.GetAttribute("data-state"));
        var classes = chip.ClassList.ToList();
        Assert.Equal(state == WorkState.Succeeded, classes.Any(c => c.Contains("success", StringComparison.Ordinal)));
        Assert.Equal(state == WorkState.Failed, classes.Any(c => c.Contains("error", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_metrics_table_sorts_numbers_as_numbers_both_ways_and_links_the_csv()
    {
        await using var ctx = NewContext();
        var table = new MetricsTable(["voxels", "label"],
        [
            new MetricsRow(1, "1.2.1", new JsonObject { ["voxels"] = 900, ["label"] = "b" }),
            new MetricsRow(2, "1.2.2", new JsonObject { ["voxels"] = 10000, ["label"] = "a" }),
            new MetricsRow(3, "1.2.3", new JsonObject { ["label"] = "c" }),
            new MetricsRow(4, "1.2.4", new JsonObject { ["voxels"] = 85.5, ["label"] = "d" }),
        ]);
        var cut = ctx.Render<MetricsTableView>(p => p.Add(x => x.Table, table).Add(x => x.CsvHref, "api/runs/7/metrics.csv"));
        List<string> Keys() => cut.FindAll("[data-testid=metrics-row]").Select(r => r.QuerySelectorAll("td")[1].TextContent.Trim()).ToList();

        Assert.Equal("api/runs/7/metrics.csv", cut.Find("[data-testid=metrics-csv]").GetAttribute("href"));
        Assert.Equal(["1.2.1", "1.2.2", "1.2.3", "1.2.4"], Keys());

        await cut.InvokeAsync(() => cut.Find("[data-testid=sort-voxels]").Click());
        Assert.Equal(["1.2.4", "1.2.1", "1.2.2", "1.2.3"], Keys()); // 85.5 < 900 < 10000 (not as text), missing last
        Assert.Equal("ascending", cut.Find("[data-testid=sort-voxels]").ParentElement!.GetAttribute("aria-sort"));

        await cut.InvokeAsync(() => cut.Find("[data-testid=sort-voxels]").Click());
        Assert.Equal(["1.2.2", "1.2.1", "1.2.4", "1.2.3"], Keys());

        await cut.InvokeAsync(() => cut.Find("[data-testid=sort-label]").Click());
        Assert.Equal(["1.2.2", "1.2.1", "1.2.3", "1.2.4"], Keys());
        Assert.Contains("10000", cut.FindAll("[data-testid=metrics-row]")[0].TextContent);
    }
}
