using Bunit;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Workflows.Engine;
using Kaapana.Core.Workflows.Triggers;
using Kaapana.Tests.Web;
using Kaapana.Web.State;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace Kaapana.Tests.Workflows.Triggers;

/// <summary>bUnit test of the /triggers page over a real index: the list, the enabled switch, the editor dialog and delete with confirmation.</summary>
public sealed class TriggersPageTests : IAsyncLifetime
{
    private string _dataDir = null!;
    private TriggerTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _dataDir = Directory.CreateTempSubdirectory("kaapana-triggers-page-").FullName;
        _host = await TriggerTestHost.StartAsync(_dataDir);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task The_page_lists_rules_switches_them_opens_the_editor_and_deletes_after_confirmation()
    {
        var algorithm = await _host.AddAlgorithmAsync("page-algo");
        var rule = await _host.CreateRuleAsync("Chest CT", algorithm, new() { ["Modality"] = ["CT"], ["BodyPartExamined"] = ["CHEST", "LUNG"] });

        await using var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddSingleton(_host.Rules);
        ctx.Services.AddSingleton<Kaapana.Core.Access.ICurrentCaller>(new Kaapana.Tests.Access.FixedCaller());
        ctx.Services.AddSingleton(_host.Services.GetRequiredService<IProjectCatalog>());
        ctx.Services.AddSingleton(_host.Services.GetRequiredService<AlgorithmRegistry>());
        ctx.Services.AddCaller(_host.Services);
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        var dialogs = ctx.Render<MudDialogProvider>();
        var cut = ctx.Render<Kaapana.Web.Pages.Triggers>();

        cut.WaitForAssertion(() => Assert.Equal("Chest CT", cut.Find("[data-testid=rule-row-name]").TextContent.Trim()));
        var row = cut.Find("[data-testid=rules] tbody tr").TextContent;
        Assert.Contains("BodyPartExamined: CHEST or LUNG", row);
        Assert.Contains("page-algo 1.0.0", row);
        Assert.Equal("0", cut.Find("[data-testid=rule-firings]").TextContent.Trim());
        Assert.Contains("never", cut.Find("[data-testid=rule-last-firing]").TextContent);

        // The switch disables the rule in the index.
        await cut.InvokeAsync(() => cut.Find("input[aria-label='Enabled Chest CT']").Change(false));
        cut.WaitForAssertion(() => Assert.False(_host.Rules.GetAsync(rule.Id).Result!.Enabled));

        // "New rule" opens the editor in a dialog.
        await cut.InvokeAsync(() => cut.Find("[data-testid=new-rule]").Click());
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=rule-editor]")));
        await dialogs.InvokeAsync(() => dialogs.Find("button[aria-label='Cancel']").Click());
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=rule-editor]")));

        // Delete asks first.
        await cut.InvokeAsync(() => cut.Find("button[aria-label='Delete Chest CT']").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("Delete \"Chest CT\"?", dialogs.Markup));
        Assert.NotNull(await _host.Rules.GetAsync(rule.Id));
        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=confirm-delete]").Click());
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=no-rules]")));
        Assert.Null(await _host.Rules.GetAsync(rule.Id));
    }
}
