using System.Text.Json.Nodes;
using Bunit;
using Kaapana.Core.Workflows.Manifest;
using Kaapana.Web.Components.Workflows;
using Microsoft.AspNetCore.Components;
using MudBlazor.Services;

namespace Kaapana.Tests.Workflows.Ui;

/// <summary>The launch form's parameter fields (bUnit): one field per type, defaults, bounds and required errors, the JSON it produces.</summary>
public sealed class ParameterFormTests
{
    private static readonly AlgorithmManifest Manifest = ManifestParser.Parse("""
        {
          "name": "form-test", "version": "1.0.0",
          "parameters": [
            { "name": "label", "type": "string", "title": "Segment label", "default": "Soft tissue", "help": "Written into the SEG." },
            { "name": "lower", "type": "integer", "title": "Lower bound", "required": true, "min": -1000, "max": 3000 },
            { "name": "upper", "type": "number", "title": "Upper bound", "default": 150.5, "min": -1000, "max": 3000 },
            { "name": "smooth", "type": "boolean", "title": "Smooth", "default": true },
            { "name": "mode", "type": "enum", "title": "Mode", "values": ["fast", "exact"], "default": "fast" },
            { "name": "extras", "type": "multi-enum", "title": "Extras", "values": ["seg", "stats", "png"], "default": ["seg"] }
          ]
        }
        """).Manifest!;

    private static BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    private static IRenderedComponent<ParameterForm> Render(BunitContext ctx, JsonObject? initial = null, Action<JsonObject>? changed = null) =>
        ctx.Render<ParameterForm>(p =>
        {
            p.Add(x => x.Manifest, Manifest);
            if (initial is not null) p.Add(x => x.Initial, initial);
            if (changed is not null) p.Add(x => x.ValuesChanged, v => changed(v));
        });

    private static string Field(string name) => $"[data-testid=param-{name}]";

    [Fact]
    public async Task Each_type_gets_its_field_with_defaults_help_and_bounds_and_the_json_holds_the_defaults()
    {
        await using var ctx = NewContext();
        var cut = Render(ctx);

        Assert.Equal(["String", "Integer", "Number", "Boolean", "Enum", "MultiEnum"],
            cut.FindAll("[data-testid^=param-]").Select(e => e.GetAttribute("data-type")!));
        Assert.Equal("Soft tissue", cut.Find($"{Field("label")} input").GetAttribute("value"));
        Assert.Contains("Written into the SEG.", cut.Find(Field("label")).TextContent);
        Assert.Equal("150.5", cut.Find($"{Field("upper")} input").GetAttribute("value"));
        Assert.Contains("From -1000 to 3000.", cut.Find(Field("upper")).TextContent);
        Assert.Contains("Lower bound *", cut.Find(Field("lower")).TextContent); // required, no default
        Assert.True(cut.Find($"{Field("smooth")} input[type=checkbox]").HasAttribute("checked"));
        var extras = cut.FindAll($"{Field("extras")} input[type=checkbox]");
        Assert.Equal([true, false, false], extras.Select(e => e.HasAttribute("checked")));
        Assert.Contains("fast", cut.Find(Field("mode")).TextContent);

        Assert.Equal("""{"label":"Soft tissue","upper":150.5,"smooth":true,"mode":"fast","extras":["seg"]}""", cut.Instance.Values.ToJsonString());
        Assert.Empty(cut.FindAll(".mud-input-error"));
    }

    [Fact]
    public async Task A_missing_required_value_is_an_error_on_submit_and_in_the_check()
    {
        await using var ctx = NewContext();
        var cut = Render(ctx);

        ParameterCheck check = null!;
        await cut.InvokeAsync(() => check = cut.Instance.Check());

        Assert.False(check.IsValid);
        Assert.Equal(["lower: required"], check.Errors);
        Assert.Contains("Required", cut.Find(Field("lower")).TextContent);
        Assert.DoesNotContain("Required", cut.Find(Field("upper")).TextContent);
    }

    [Fact]
    public async Task Values_outside_the_bounds_or_not_numbers_show_their_error_as_typed()
    {
        await using var ctx = NewContext();
        var cut = Render(ctx);

        await cut.InvokeAsync(() => cut.Find($"{Field("lower")} input").Input("5000"));
        Assert.Contains("5000 is above the maximum 3000", cut.Find(Field("lower")).TextContent);

        await cut.InvokeAsync(() => cut.Find($"{Field("lower")} input").Input("1.5"));
        Assert.Contains("'1.5' is not a whole number", cut.Find(Field("lower")).TextContent);

        await cut.InvokeAsync(() => cut.Find($"{Field("upper")} input").Input("-1000.5"));
        Assert.Contains("-1000.5 is below the minimum -1000", cut.Find(Field("upper")).TextContent);

        await cut.InvokeAsync(() => cut.Find($"{Field("upper")} input").Input("abc"));
        Assert.Contains("'abc' is not a number", cut.Find(Field("upper")).TextContent);

        ParameterCheck check = null!;
        await cut.InvokeAsync(() => check = cut.Instance.Check());
        Assert.Equal(["lower: '1.5' is not a whole number", "upper: 'abc' is not a number"], check.Errors);
    }

    [Fact]
    public async Task Edited_values_produce_the_json_the_engine_accepts()
    {
        await using var ctx = NewContext();
        JsonObject? last = null;
        var cut = Render(ctx, changed: v => last = v);

        await cut.InvokeAsync(() => cut.Find($"{Field("lower")} input").Input("-150"));
        await cut.InvokeAsync(() => cut.Find($"{Field("upper")} input").Input("2e2"));
        await cut.InvokeAsync(() => cut.Find($"{Field("label")} input").Input("Bone"));
        await cut.InvokeAsync(() => cut.Find($"{Field("smooth")} input[type=checkbox]").Change(false));
        await cut.InvokeAsync(() => cut.FindAll($"{Field("extras")} input[type=checkbox]")[2].Change(true));
        await cut.InvokeAsync(() => cut.FindAll($"{Field("extras")} input[type=checkbox]")[0].Change(false));

        const string expected = """{"label":"Bone","lower":-150,"upper":200,"smooth":false,"mode":"fast","extras":["png"]}""";
        Assert.Equal(expected, last!.ToJsonString());
        ParameterCheck check = null!;
        await cut.InvokeAsync(() => check = cut.Instance.Check());
        Assert.True(check.IsValid, string.Join("; ", check.Errors));
        // The engine's own check of what the form sends gives the same values.
        var engine = ParameterValues.Validate(Manifest, cut.Instance.Values);
        Assert.True(engine.IsValid);
        Assert.Equal(expected, engine.Values!.ToJsonString());
        Assert.Empty(cut.FindAll(".mud-input-error"));
    }

    [Fact]
    public async Task Initial_values_replace_the_defaults_and_a_value_not_among_the_choices_is_refused()
    {
        await using var ctx = NewContext();
        var cut = Render(ctx, new JsonObject { ["lower"] = 10, ["mode"] = "slow", ["extras"] = new JsonArray("stats", "seg") });

        Assert.Equal("10", cut.Find($"{Field("lower")} input").GetAttribute("value"));
        Assert.Equal([true, true, false], cut.FindAll($"{Field("extras")} input[type=checkbox]").Select(e => e.HasAttribute("checked")));
        ParameterCheck check = null!;
        await cut.InvokeAsync(() => check = cut.Instance.Check());
        Assert.Equal(["mode: 'slow' is not one of ['fast', 'exact']"], check.Errors);
        Assert.Contains("'slow' is not one of", cut.Find(Field("mode")).TextContent);
        // Multi-enum values come out in the manifest's order.
        Assert.Equal("""["seg","stats"]""", cut.Instance.Values["extras"]!.ToJsonString());
    }

    [Fact]
    public async Task A_manifest_without_parameters_says_so_and_produces_an_empty_object()
    {
        await using var ctx = NewContext();
        var bare = ManifestParser.Parse("""{"name":"bare","version":"1"}""").Manifest!;
        var cut = ctx.Render<ParameterForm>(p => p.Add(x => x.Manifest, bare));
        Assert.Contains("has no parameters", cut.Find("[data-testid=no-parameters]").TextContent);
        Assert.Equal("{}", cut.Instance.Values.ToJsonString());
    }
}
