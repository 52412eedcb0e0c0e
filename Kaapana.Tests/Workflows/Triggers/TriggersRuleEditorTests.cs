using Bunit;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Workflows.Triggers;
using Kaapana.Web.Pages;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Kaapana.Tests.Workflows.Triggers;

/// <summary>bUnit tests of the trigger rule editor over a real index: its validation messages and what it saves.</summary>
public sealed class TriggersRuleEditorTests : IAsyncLifetime
{
    private string _dataDir = null!;
    private TriggerTestHost _host = null!;
    private Algorithm _algorithm = null!;

    public async Task InitializeAsync()
    {
        _dataDir = Directory.CreateTempSubdirectory("kaapana-triggers-editor-").FullName;
        _host = await TriggerTestHost.StartAsync(_dataDir);
        var id = await _host.AddAlgorithmAsync("editor-algo");
        await using var db = _host.CreateDb();
        _algorithm = await db.Algorithms.AsNoTracking().SingleAsync(a => a.Id == id);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    private BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddSingleton(_host.Rules);
        ctx.Services.AddSingleton<Kaapana.Core.Access.ICurrentCaller>(new Kaapana.Tests.Access.FixedCaller());
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    [Fact]
    public async Task The_editor_lists_every_problem_in_words_and_saves_once_they_are_fixed()
    {
        await using var ctx = NewContext();
        TriggerRuleView? saved = null;
        var cut = ctx.Render<TriggersRuleEditor>(p => p
            .Add(x => x.Projects, ["default"])
            .Add(x => x.Algorithms, [_algorithm])
            .Add(x => x.DefaultProject, "default")
            .Add(x => x.DefaultAlgorithmId, _algorithm.Id)
            .Add(x => x.User, "editor")
            .Add(x => x.OnSaved, r => saved = r));

        // The manifest's parameters are described next to the JSON box.
        Assert.Contains("lower", cut.Find("[data-testid=parameter-help]").TextContent);
        Assert.Contains("min -1024", cut.Find("[data-testid=parameter-help]").TextContent);

        // Nothing named, broken JSON, a misspelt keyword: all reported together, nothing saved.
        await cut.InvokeAsync(() => cut.Find("input[aria-label='Filter 1 keyword']").Input("Modalty"));
        await cut.InvokeAsync(() => cut.Find("input[aria-label='Filter 1 values']").Input("CT, MR"));
        await cut.InvokeAsync(() => cut.Find("textarea[aria-label='Parameters as JSON']").Input("{\"lower\": "));
        await cut.InvokeAsync(() => cut.Find("[data-testid=rule-save]").Click());
        cut.WaitForAssertion(() => Assert.Contains("parameters: not valid JSON", cut.Find("[data-testid=rule-errors]").TextContent));
        var errors = cut.Find("[data-testid=rule-errors]").TextContent;
        Assert.Contains("name: required", errors);
        Assert.Contains("filter Modalty: not a DICOM keyword", errors);
        Assert.Contains("did you mean Modality?", errors);
        Assert.Null(saved);

        // Valid JSON, values the manifest refuses: the manifest's words, per parameter.
        await cut.InvokeAsync(() => cut.Find("input[aria-label='Rule name']").Input("CT chest"));
        await cut.InvokeAsync(() => cut.Find("input[aria-label='Filter 1 keyword']").Input("Modality"));
        await cut.InvokeAsync(() => cut.Find("textarea[aria-label='Parameters as JSON']").Input("{\"lower\": 5000, \"upper\": 1}"));
        await cut.InvokeAsync(() => cut.Find("[data-testid=rule-save]").Click());
        cut.WaitForAssertion(() => Assert.Contains("parameter upper: unknown parameter", cut.Find("[data-testid=rule-errors]").TextContent));
        errors = cut.Find("[data-testid=rule-errors]").TextContent;
        Assert.Contains("parameter lower:", errors);
        Assert.DoesNotContain("name: required", errors);
        Assert.DoesNotContain("Modalty", errors);
        Assert.Null(saved);

        // A second filter (AND) and valid parameters: saved, as the person entered it.
        await cut.InvokeAsync(() => cut.Find("[data-testid=add-filter]").Click());
        await cut.InvokeAsync(() => cut.Find("input[aria-label='Filter 2 keyword']").Input("BodyPartExamined"));
        await cut.InvokeAsync(() => cut.Find("input[aria-label='Filter 2 values']").Input("CHEST"));
        await cut.InvokeAsync(() => cut.Find("textarea[aria-label='Parameters as JSON']").Input("{\"lower\": 200}"));
        await cut.InvokeAsync(() => cut.Find("[data-testid=rule-save]").Click());
        cut.WaitForAssertion(() => Assert.NotNull(saved));
        Assert.Empty(cut.FindAll("[data-testid=rule-errors]"));
        Assert.Equal("CT chest", saved!.Name);
        Assert.Equal(["CT", "MR"], saved.Filters["Modality"]);
        Assert.Equal(["CHEST"], saved.Filters["BodyPartExamined"]);
        Assert.Equal(200, saved.Parameters["lower"]!.GetValue<int>());
        Assert.Equal("editor", saved.CreatedBy);
        Assert.True(saved.Enabled);
        var stored = Assert.Single(await _host.Rules.ListAsync());
        Assert.Equal(saved.Id, stored.Id);
    }

    [Fact]
    public async Task Editing_a_rule_starts_from_its_values_and_a_taken_name_is_refused()
    {
        await _host.CreateRuleAsync("first", _algorithm.Id, new() { ["Modality"] = ["CT"] });
        var second = await _host.CreateRuleAsync("second", _algorithm.Id, new() { ["Modality"] = ["MR"], ["ProtocolName"] = ["Brain", "Spine"] });
        await using var ctx = NewContext();
        TriggerRuleView? saved = null;
        var cut = ctx.Render<TriggersRuleEditor>(p => p
            .Add(x => x.Rule, second)
            .Add(x => x.Projects, ["default"])
            .Add(x => x.Algorithms, [_algorithm])
            .Add(x => x.OnSaved, r => saved = r));

        Assert.Equal("second", cut.Find("input[aria-label='Rule name']").GetAttribute("value"));
        Assert.Equal("Brain, Spine", cut.Find("input[aria-label='Filter 2 values']").GetAttribute("value"));
        await cut.InvokeAsync(() => cut.Find("input[aria-label='Rule name']").Input("first"));
        await cut.InvokeAsync(() => cut.Find("[data-testid=rule-save]").Click());
        cut.WaitForAssertion(() => Assert.Contains("name: a rule named 'first' exists", cut.Find("[data-testid=rule-errors]").TextContent));
        Assert.Null(saved);

        await cut.InvokeAsync(() => cut.Find("input[aria-label='Rule name']").Input("second, renamed"));
        await cut.InvokeAsync(() => cut.Find("[data-testid=rule-save]").Click());
        cut.WaitForAssertion(() => Assert.NotNull(saved));
        Assert.Equal(second.Id, saved!.Id);
        Assert.Equal("second, renamed", (await _host.Rules.GetAsync(second.Id))!.Name);
    }
}
