using System.Text.Json.Nodes;
using Kaapana.Core.Workflows.Manifest;

namespace Kaapana.Tests.Workflows;

public class ManifestTests
{
    // The README example, kept in sync by hand: if this fails, fix the README too.
    public const string Example = """
        {
          "name": "threshold-seg",
          "version": "1.0.0",
          "title": "Threshold segmentation",
          "description": "Segments voxels within a HU range into a DICOM SEG.",
          "image": "kaapana/threshold-seg:latest",
          "input": { "scope": "series", "modalities": ["CT"], "sopClasses": ["1.2.840.10008.5.1.4.1.1.2"] },
          "parameters": [
            { "name": "lower", "type": "number", "default": 300, "min": -1024, "max": 3071, "help": "Lowest HU included" },
            { "name": "upper", "type": "number", "default": 3071, "min": -1024, "max": 3071 },
            { "name": "label", "type": "string", "default": "Bone" },
            { "name": "minVoxels", "type": "integer", "min": 0 },
            { "name": "smooth", "type": "boolean", "default": false },
            { "name": "method", "type": "enum", "values": ["fixed", "otsu"], "default": "fixed" },
            { "name": "exports", "type": "multi-enum", "values": ["seg", "stats", "preview"], "default": ["seg"], "required": true }
          ],
          "outputs": ["dicom", "metrics", "files"],
          "resources": { "cpu": 1, "memoryMb": 1024, "gpus": 0, "shmMb": 64, "timeoutSeconds": 600 },
          "network": false,
          "retries": 1
        }
        """;

    private static AlgorithmManifest Valid()
    {
        var result = ManifestParser.Parse(Example);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Manifest!;
    }

    [Fact]
    public void The_example_parses_with_every_field()
    {
        var m = Valid();
        Assert.Equal("threshold-seg", m.Name);
        Assert.Equal(InputScope.Series, m.Input.Scope);
        Assert.Equal(["CT"], m.Input.Modalities);
        Assert.Equal(7, m.Parameters.Count);
        Assert.Equal(ParameterType.MultiEnum, m.Parameters[6].Type);
        Assert.Equal([OutputKind.Dicom, OutputKind.Metrics, OutputKind.Files], m.Outputs);
        Assert.Equal(600, m.Resources.TimeoutSeconds);
        Assert.Equal(1, m.Retries);
        // Round trip through our own writer.
        Assert.Equal(m.Parameters.Count, ManifestParser.Parse(ManifestParser.ToJson(m)).Manifest!.Parameters.Count);
    }

    [Fact]
    public void A_minimal_manifest_gets_defaults()
    {
        var m = ManifestParser.Parse("""{"name":"x","version":"1"}""").Manifest!;
        Assert.Equal(InputScope.Series, m.Input.Scope);
        Assert.Empty(m.Parameters);
        Assert.False(m.Network);
        Assert.Equal(0, m.Retries);
    }

    [Theory]
    [InlineData("""{"name":"x","version":"1","colour":"red"}""", "$.colour: unknown property")]
    [InlineData("""{"version":"1"}""", "missing required properties: 'name'")]
    [InlineData("""{"name":"X Y","version":"1"}""", "$.name: 'X Y' must be")]
    [InlineData("""{"name":"x","version":"1","input":{"scope":"patient"}}""", "$.input.scope")]
    [InlineData("""{"name":"x","version":"1","resources":{"cpu":"two"}}""", "$.resources.cpu")]
    [InlineData("""{"name":"x","version":"1","resources":{"memoryMb":2}}""", "$.resources.memoryMb: 2 must be at least 8")]
    [InlineData("""{"name":"x","version":"1","retries":9}""", "$.retries: 9 must be 0-5")]
    [InlineData("""{"name":"x","version":"1","outputs":["dicom","dicom"]}""", "$.outputs: each output kind may appear once")]
    [InlineData("""{"name":"x","version":"1","outputs":["nifti"]}""", "$.outputs[0]")]
    [InlineData("""{"name":"x","version":"1","input":{"modalities":["ct"]}}""", "$.input.modalities[0]: 'ct' is not a modality code")]
    [InlineData("""{"name":"x","version":"1","input":{"sopClasses":["1.2.abc"]}}""", "$.input.sopClasses[0]: '1.2.abc' is not a UID")]
    [InlineData("""{"name":"x","version":"1","parameters":[{"name":"a","type":"enum"}]}""", "$.parameters[0].values: a enum parameter needs at least one value")]
    [InlineData("""{"name":"x","version":"1","parameters":[{"name":"a","type":"string","min":1}]}""", "$.parameters[0]: min/max apply only to integer and number")]
    [InlineData("""{"name":"x","version":"1","parameters":[{"name":"a","type":"integer","min":5,"max":1}]}""", "$.parameters[0]: min (5) is greater than max (1)")]
    [InlineData("""{"name":"x","version":"1","parameters":[{"name":"a","type":"integer","default":1.5}]}""", "$.parameters[0].default: expected a whole number")]
    [InlineData("""{"name":"x","version":"1","parameters":[{"name":"a","type":"number","max":3,"default":4}]}""", "$.parameters[0].default: 4 is above the maximum 3")]
    [InlineData("""{"name":"x","version":"1","parameters":[{"name":"a","type":"string"},{"name":"A","type":"string"}]}""", "$.parameters[1].name: 'A' is declared twice")]
    [InlineData("""{"name":"x","version":"1","parameters":[{"name":"1a","type":"string"}]}""", "$.parameters[0].name: '1a' must be letters")]
    [InlineData("""{"name":"x","version":"1","parameters":[{"name":"a","type":"float"}]}""", "$.parameters[0].type")]
    [InlineData("""{"name":"x","version":"1",}""", "")]
    [InlineData("""[]""", "")]
    [InlineData("""  """, "the manifest is empty")]
    public void Invalid_manifests_are_refused_with_the_path_of_the_problem(string json, string expected)
    {
        var result = ManifestParser.Parse(json);
        Assert.False(result.IsValid);
        Assert.Null(result.Manifest);
        Assert.NotEmpty(result.Errors);
        Assert.True(result.Errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"expected '{expected}' in: {string.Join(" | ", result.Errors)}");
        Assert.DoesNotContain(result.Errors, e => e.Contains("Kaapana.Core", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_problem_is_reported_not_just_the_first()
    {
        var result = ManifestParser.Parse("""{"name":"BAD","version":"","retries":-1,"resources":{"gpus":-2}}""");
        Assert.Equal(4, result.Errors.Count);
    }

    [Fact]
    public void Parameter_values_are_checked_and_defaults_filled_in()
    {
        var m = Valid();
        var check = ParameterValues.Validate(m, new JsonObject { ["lower"] = -500, ["minVoxels"] = 10, ["exports"] = new JsonArray("seg", "stats") });
        Assert.True(check.IsValid, string.Join("\n", check.Errors));
        var v = check.Values!;
        Assert.Equal(-500, v["lower"]!.GetValue<int>());
        Assert.Equal(3071, v["upper"]!.GetValue<int>());
        Assert.Equal("Bone", v["label"]!.GetValue<string>());
        Assert.Equal("fixed", v["method"]!.GetValue<string>());
        var env = ParameterValues.ToEnvironment(v);
        Assert.Equal("-500", env["KAAPANA_PARAM_LOWER"]);
        Assert.Equal("false", env["KAAPANA_PARAM_SMOOTH"]);
        Assert.Equal("seg,stats", env["KAAPANA_PARAM_EXPORTS"]);
        Assert.Equal("10", env["KAAPANA_PARAM_MINVOXELS"]);
    }

    [Fact]
    public void Bad_parameter_values_are_all_listed()
    {
        var m = Valid();
        var check = ParameterValues.Validate(m, new JsonObject
        {
            ["lower"] = -2000, ["upper"] = "high", ["minVoxels"] = 1.5, ["smooth"] = "yes", ["method"] = "magic",
            ["exports"] = new JsonArray("seg", "seg"), ["Label"] = "x", ["unknown"] = 1,
        });
        Assert.False(check.IsValid);
        Assert.Null(check.Values);
        string[] expected =
        [
            "lower: -2000 is below the minimum -1024", "upper: expected a number, got the string \"high\"", "minVoxels: expected a whole number",
            "smooth: expected true or false", "method: 'magic' is not one of ['fixed', 'otsu']", "exports: 'seg' is listed twice",
            "Label: unknown parameter (did you mean 'label'?)", "unknown: unknown parameter",
        ];
        foreach (var e in expected) Assert.Contains(check.Errors, x => x.StartsWith(e, StringComparison.Ordinal));
        Assert.Equal(expected.Length, check.Errors.Count);
    }

    [Fact]
    public void A_required_parameter_without_default_must_be_given()
    {
        var m = ManifestParser.Parse("""{"name":"x","version":"1","parameters":[{"name":"organ","type":"string","required":true}]}""").Manifest!;
        Assert.Equal(["organ: required"], ParameterValues.Validate(m, null).Errors);
        Assert.True(ParameterValues.Validate(m, new JsonObject { ["organ"] = "liver" }).IsValid);
    }
}
