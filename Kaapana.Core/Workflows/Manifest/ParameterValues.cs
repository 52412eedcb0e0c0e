using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kaapana.Core.Workflows.Manifest;

/// <summary>A run's parameter values checked against the manifest, with defaults filled in.</summary>
/// <param name="Values">Every parameter that has a value (given or default), in manifest order; null when there are errors.</param>
public sealed record ParameterCheck(JsonObject? Values, IReadOnlyList<string> Errors)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>Validates parameter values (a JSON object from the launch form or the API) against a manifest.</summary>
public static class ParameterValues
{
    /// <summary>Unknown names, missing required values and wrong types or ranges are all reported, not just the first.</summary>
    public static ParameterCheck Validate(AlgorithmManifest manifest, JsonObject? given)
    {
        var errors = new List<string>();
        var values = new JsonObject();
        given ??= [];
        var byName = manifest.Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var (name, _) in given)
            if (!byName.ContainsKey(name))
                errors.Add(manifest.Parameters.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) is { } similar
                    ? $"{name}: unknown parameter (did you mean '{similar.Name}'?)"
                    : $"{name}: unknown parameter of {manifest.Name}");
        foreach (var p in manifest.Parameters)
        {
            var has = given.TryGetPropertyValue(p.Name, out var node) && node is not null;
            if (!has)
            {
                if (p.Default is { } d) values[p.Name] = JsonNode.Parse(d.GetRawText());
                else if (p.Required) errors.Add($"{p.Name}: required");
                continue;
            }
            var element = JsonSerializer.SerializeToElement(node);
            if (Check(p, element) is { } error) errors.Add($"{p.Name}: {error}");
            else values[p.Name] = node!.DeepClone();
        }
        return errors.Count == 0 ? new ParameterCheck(values, []) : new ParameterCheck(null, errors);
    }

    /// <summary>Null when <paramref name="value"/> is valid for <paramref name="p"/>, else why not.</summary>
    public static string? Check(ParameterSpec p, JsonElement value)
    {
        switch (p.Type)
        {
            case ParameterType.String:
                return value.ValueKind == JsonValueKind.String ? null : $"expected a string, got {Kind(value)}";
            case ParameterType.Boolean:
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : $"expected true or false, got {Kind(value)}";
            case ParameterType.Integer:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var l)) return $"expected a whole number, got {Kind(value)}";
                return Range(p, l);
            case ParameterType.Number:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var d) || !double.IsFinite(d)) return $"expected a number, got {Kind(value)}";
                return Range(p, d);
            case ParameterType.Enum:
                if (value.ValueKind != JsonValueKind.String) return $"expected one of {Choices(p)}, got {Kind(value)}";
                return p.Values.Contains(value.GetString()!, StringComparer.Ordinal) ? null : $"'{value.GetString()}' is not one of {Choices(p)}";
            case ParameterType.MultiEnum:
                if (value.ValueKind != JsonValueKind.Array) return $"expected a list of {Choices(p)}, got {Kind(value)}";
                var picked = new HashSet<string>(StringComparer.Ordinal);
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String || !p.Values.Contains(item.GetString()!, StringComparer.Ordinal))
                        return $"{item.GetRawText()} is not one of {Choices(p)}";
                    if (!picked.Add(item.GetString()!)) return $"'{item.GetString()}' is listed twice";
                }
                return null;
            default:
                return $"unknown type {p.Type}";
        }
    }

    /// <summary>The <c>KAAPANA_PARAM_&lt;NAME&gt;</c> environment variables of checked values: text as is, numbers invariant, booleans true/false, multi-enum comma-separated.</summary>
    public static Dictionary<string, string> ToEnvironment(JsonObject values)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, node) in values)
        {
            if (node is null) continue;
            var e = JsonSerializer.SerializeToElement(node);
            env["KAAPANA_PARAM_" + name.ToUpperInvariant()] = e.ValueKind switch
            {
                JsonValueKind.String => e.GetString()!,
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Number => e.GetRawText(),
                JsonValueKind.Array => string.Join(',', e.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() : x.GetRawText())),
                _ => e.GetRawText(),
            };
        }
        return env;
    }

    private static string? Range(ParameterSpec p, double v) =>
        p.Min is { } min && v < min ? $"{v.ToString(CultureInfo.InvariantCulture)} is below the minimum {min.ToString(CultureInfo.InvariantCulture)}"
        : p.Max is { } max && v > max ? $"{v.ToString(CultureInfo.InvariantCulture)} is above the maximum {max.ToString(CultureInfo.InvariantCulture)}"
        : null;

    private static string Choices(ParameterSpec p) => "[" + string.Join(", ", p.Values.Select(v => $"'{v}'")) + "]";

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{e.GetString()}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
