using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kaapana.Core.Workflows.Manifest;

/// <summary>
/// What an algorithm image declares about itself (Workflows/README.md): identity, what it runs on, the parameters a user
/// may set, what it writes, and what it needs. Read with <see cref="ManifestParser"/>, which also validates it.
/// </summary>
public sealed record AlgorithmManifest
{
    /// <summary>Machine name: lower-case letters, digits, '-', '_' and '.', starting with a letter or digit.</summary>
    public required string Name { get; init; }

    public required string Version { get; init; }
    public string? Title { get; init; }
    public string? Description { get; init; }

    /// <summary>Image reference. Optional in a manifest shipped as the image's own label (the image is then itself).</summary>
    public string? Image { get; init; }

    public InputSpec Input { get; init; } = new();
    public IReadOnlyList<ParameterSpec> Parameters { get; init; } = [];

    /// <summary>What the container writes to <c>/output</c>; outputs not declared here are ignored.</summary>
    public IReadOnlyList<OutputKind> Outputs { get; init; } = [];

    public ResourceSpec Resources { get; init; } = new();

    /// <summary>Network access for the container (default none); an admin must allow it when registering.</summary>
    public bool Network { get; init; }

    /// <summary>How many times a failed or timed-out item is run again automatically at launch (0-5); a manual retry of failed items is one more attempt each.</summary>
    public int Retries { get; init; }

    public string DisplayTitle => Title ?? Name;
}

/// <summary>What one container gets: one series, one study, or the whole dataset; and which series qualify.</summary>
public sealed record InputSpec
{
    public InputScope Scope { get; init; } = InputScope.Series;

    /// <summary>Only series with one of these modalities are input (empty: all).</summary>
    public IReadOnlyList<string> Modalities { get; init; } = [];

    /// <summary>Only instances of these SOP classes are input (empty: all).</summary>
    public IReadOnlyList<string> SopClasses { get; init; } = [];
}

[JsonConverter(typeof(JsonStringEnumConverter<InputScope>))]
public enum InputScope
{
    [JsonStringEnumMemberName("series")] Series,
    [JsonStringEnumMemberName("study")] Study,
    [JsonStringEnumMemberName("dataset")] Dataset,
}

[JsonConverter(typeof(JsonStringEnumConverter<OutputKind>))]
public enum OutputKind
{
    /// <summary>DICOM files, validated and ingested as derived series.</summary>
    [JsonStringEnumMemberName("dicom")] Dicom,

    /// <summary>Any other files, kept as downloadable artifacts.</summary>
    [JsonStringEnumMemberName("files")] Files,

    /// <summary><c>/output/metrics.json</c>, a flat JSON object merged into the run's metrics table.</summary>
    [JsonStringEnumMemberName("metrics")] Metrics,
}

[JsonConverter(typeof(JsonStringEnumConverter<ParameterType>))]
public enum ParameterType
{
    [JsonStringEnumMemberName("string")] String,
    [JsonStringEnumMemberName("integer")] Integer,
    [JsonStringEnumMemberName("number")] Number,
    [JsonStringEnumMemberName("boolean")] Boolean,
    [JsonStringEnumMemberName("enum")] Enum,
    [JsonStringEnumMemberName("multi-enum")] MultiEnum,
}

/// <summary>One typed parameter; the UI builds its form from these.</summary>
public sealed record ParameterSpec
{
    /// <summary>Letters, digits and '_', starting with a letter: it becomes <c>KAAPANA_PARAM_&lt;NAME&gt;</c> (upper-cased).</summary>
    public required string Name { get; init; }

    public required ParameterType Type { get; init; }
    public string? Title { get; init; }
    public string? Help { get; init; }

    /// <summary>Used when the run gives no value. Must itself be valid.</summary>
    public JsonElement? Default { get; init; }

    /// <summary>A run must give a value (or the parameter must have a default).</summary>
    public bool Required { get; init; }

    /// <summary>Bounds (inclusive) of integer and number parameters.</summary>
    public double? Min { get; init; }

    public double? Max { get; init; }

    /// <summary>The choices of enum and multi-enum parameters.</summary>
    public IReadOnlyList<string> Values { get; init; } = [];
}

/// <summary>What a container may use. Null: no limit (or the runner's default).</summary>
public sealed record ResourceSpec
{
    public double? Cpu { get; init; }
    public int? MemoryMb { get; init; }
    public int Gpus { get; init; }
    public int? ShmMb { get; init; }
    public int? TimeoutSeconds { get; init; }
}
