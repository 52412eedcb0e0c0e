using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Kaapana.Core.Workflows.Manifest;

/// <summary>The outcome of reading a manifest: the manifest when valid, else every problem found (never both).</summary>
public sealed record ManifestParseResult(AlgorithmManifest? Manifest, IReadOnlyList<string> Errors)
{
    public bool IsValid => Manifest is not null;
}

/// <summary>
/// Reads and validates algorithm manifests strictly: unknown properties, wrong types and out-of-range values are errors
/// with the JSON path they concern, so an author sees at once what to fix.
/// </summary>
public static partial class ManifestParser
{
    /// <summary>Serializer settings of manifests (camelCase, unknown members rejected); also used to write them back.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public const int MaxRetries = 5;

    [GeneratedRegex("^(builtin/)?[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    private static partial Regex ParameterNamePattern();

    [GeneratedRegex("^[A-Z0-9_ ]{1,16}$")]
    private static partial Regex ModalityPattern();

    [GeneratedRegex(@"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$")]
    private static partial Regex UidPattern();

    public static ManifestParseResult Parse(string json)
    {
        if (string.IsNullOrWhiteSpace(json)) return Fail("the manifest is empty");
        AlgorithmManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<AlgorithmManifest>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            return Fail(Describe(e));
        }
        if (manifest is null) return Fail("the manifest must be a JSON object, not null");
        var errors = Validate(manifest);
        return errors.Count == 0 ? new ManifestParseResult(manifest, []) : new ManifestParseResult(null, errors);
    }

    public static string ToJson(AlgorithmManifest manifest) => JsonSerializer.Serialize(manifest, JsonOptions);

    // System.Text.Json's messages name .NET types; keep the part that helps a manifest author and the JSON path.
    private static string Describe(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        message = message
            .Replace("Kaapana.Core.Workflows.Manifest.", "", StringComparison.Ordinal)
            .Replace("System.", "", StringComparison.Ordinal);
        if (message.Contains("missing required properties", StringComparison.Ordinal))
        {
            var names = message[(message.IndexOf("including:", StringComparison.Ordinal) + 10)..].Trim().TrimEnd('.');
            message = $"missing required properties: {names}";
        }
        else if (message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            message = "unknown property (not part of the manifest schema, see Workflows/README.md)";
        }
        return string.IsNullOrEmpty(e.Path) || e.Path == "$" ? message : $"{e.Path}: {message}";
    }

    private static ManifestParseResult Fail(string error) => new(null, [error]);

    /// <summary>Checks a manifest's values (the parser calls this; also for manifests built in code).</summary>
    public static List<string> Validate(AlgorithmManifest m)
    {
        var errors = new List<string>();
        if (!NamePattern().IsMatch(m.Name ?? ""))
            errors.Add($"$.name: '{m.Name}' must be 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
        if (string.IsNullOrWhiteSpace(m.Version) || m.Version.Length > 64 || m.Version.Any(char.IsWhiteSpace))
            errors.Add($"$.version: '{m.Version}' must be 1-64 characters without spaces, e.g. 1.0.0");
        if (m.Title is { Length: > 200 }) errors.Add("$.title: longer than 200 characters");
        if (m.Image is not null && (m.Image.Length == 0 || m.Image.Any(char.IsWhiteSpace)))
            errors.Add($"$.image: '{m.Image}' is not an image reference");

        if (m.Input is null) errors.Add("$.input: must be an object");
        else
        {
            foreach (var (modality, i) in (m.Input.Modalities ?? []).Select((x, i) => (x, i)))
                if (!ModalityPattern().IsMatch(modality ?? "")) errors.Add($"$.input.modalities[{i}]: '{modality}' is not a modality code (upper case, e.g. CT)");
            foreach (var (uid, i) in (m.Input.SopClasses ?? []).Select((x, i) => (x, i)))
                if (uid is null || uid.Length > 64 || !UidPattern().IsMatch(uid)) errors.Add($"$.input.sopClasses[{i}]: '{uid}' is not a UID");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < (m.Parameters ?? []).Count; i++)
        {
            var p = m.Parameters![i];
            var at = $"$.parameters[{i}]";
            if (p is null) { errors.Add($"{at}: must be an object"); continue; }
            if (!ParameterNamePattern().IsMatch(p.Name ?? ""))
                errors.Add($"{at}.name: '{p.Name}' must be letters, digits and '_', starting with a letter (it becomes KAAPANA_PARAM_<NAME>)");
            else if (!seen.Add(p.Name!)) errors.Add($"{at}.name: '{p.Name}' is declared twice (names are case-insensitive)");
            bool numeric = p.Type is ParameterType.Integer or ParameterType.Number;
            if (!numeric && (p.Min is not null || p.Max is not null))
                errors.Add($"{at}: min/max apply only to integer and number parameters, not {TypeName(p.Type)}");
            if (p.Min is { } min && p.Max is { } max && min > max) errors.Add($"{at}: min ({min}) is greater than max ({max})");
            if (p.Type == ParameterType.Integer && (p.Min is { } imin && imin != Math.Floor(imin) || p.Max is { } imax && imax != Math.Floor(imax)))
                errors.Add($"{at}: min/max of an integer parameter must be whole numbers");
            bool choice = p.Type is ParameterType.Enum or ParameterType.MultiEnum;
            var values = p.Values ?? [];
            if (choice && values.Count == 0) errors.Add($"{at}.values: a {TypeName(p.Type)} parameter needs at least one value");
            if (!choice && values.Count > 0) errors.Add($"{at}.values: only enum and multi-enum parameters have values");
            if (values.Any(string.IsNullOrEmpty)) errors.Add($"{at}.values: values must be non-empty strings");
            else if (values.Distinct(StringComparer.Ordinal).Count() != values.Count) errors.Add($"{at}.values: values must be unique");
            if (p.Default is { } d && ParameterValues.Check(p, d) is { } defaultError)
                errors.Add($"{at}.default: {defaultError}");
        }

        var outputs = m.Outputs ?? [];
        if (outputs.Distinct().Count() != outputs.Count) errors.Add("$.outputs: each output kind may appear once");

        if (m.Resources is null) errors.Add("$.resources: must be an object");
        else
        {
            var r = m.Resources;
            if (r.Cpu is <= 0 or > 1024) errors.Add($"$.resources.cpu: {r.Cpu} must be greater than 0 (cores, e.g. 1.5)");
            if (r.MemoryMb is < 8) errors.Add($"$.resources.memoryMb: {r.MemoryMb} must be at least 8");
            if (r.Gpus is < 0 or > 64) errors.Add($"$.resources.gpus: {r.Gpus} must be 0-64");
            if (r.ShmMb is < 1) errors.Add($"$.resources.shmMb: {r.ShmMb} must be at least 1");
            if (r.TimeoutSeconds is < 1) errors.Add($"$.resources.timeoutSeconds: {r.TimeoutSeconds} must be at least 1");
        }
        if (m.Retries is < 0 or > MaxRetries) errors.Add($"$.retries: {m.Retries} must be 0-{MaxRetries}");
        return errors;
    }

    internal static string TypeName(ParameterType type) => JsonSerializer.Serialize(type, JsonOptions).Trim('"');
}
