using System.Globalization;
using System.Text.Json;

namespace Kaapana.Algorithms;

/// <summary>One unit of work found in <c>/input</c>: a folder of DICOM files of one series.</summary>
/// <param name="Name">Folder name, also the name of the item's folder under <c>/output</c> (the Series Instance UID in the engine's layout).</param>
public sealed record InputItem(string Name, string Directory);

/// <summary>
/// The container contract (Kaapana.Core/Workflows/README.md) as an algorithm sees it: items under <c>/input</c>, the checked
/// parameters in <c>/input/params.json</c> or <c>KAAPANA_PARAM_&lt;NAME&gt;</c>, the run id from <c>/input/manifest.json</c>.
/// Paths can be given as arguments (<c>algorithm [input] [output]</c>) to run outside a container.
/// </summary>
public sealed class AlgorithmInput
{
    private readonly JsonElement? _params;

    private AlgorithmInput(string inputDir, string outputDir, JsonElement? parameters, string? runId, IReadOnlyList<InputItem> items)
    {
        InputDirectory = inputDir;
        OutputDirectory = outputDir;
        _params = parameters;
        RunId = runId;
        Items = items;
    }

    public string InputDirectory { get; }
    public string OutputDirectory { get; }

    /// <summary>The engine's run id when <c>/input/manifest.json</c> names one: part of derived UIDs, so each run writes new series.</summary>
    public string? RunId { get; }

    public IReadOnlyList<InputItem> Items { get; }

    /// <exception cref="AlgorithmInputException">The input folder is missing or unreadable, or its JSON files are malformed.</exception>
    public static AlgorithmInput Read(string[] args)
    {
        var input = Path.GetFullPath(args.Length > 0 ? args[0] : "/input");
        var output = Path.GetFullPath(args.Length > 1 ? args[1] : "/output");
        if (!System.IO.Directory.Exists(input)) throw new AlgorithmInputException($"the input folder {input} does not exist");
        var parameters = ReadJson(Path.Combine(input, "params.json"));
        if (parameters is { ValueKind: not JsonValueKind.Object }) throw new AlgorithmInputException("params.json must hold a JSON object");
        var manifest = ReadJson(Path.Combine(input, "manifest.json"));
        string? runId = manifest is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty("run", out var run) ? run.ToString() : null;
        return new AlgorithmInput(input, output, parameters, runId, FindItems(input, manifest));
    }

    // The engine's layout lists the series folders in manifest.json (series/<uid>); without one, every sub-folder holding
    // files is an item (series/<uid>/ if present, else the folders directly under /input).
    private static List<InputItem> FindItems(string input, JsonElement? manifest)
    {
        var items = new List<InputItem>();
        if (manifest is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty("series", out var series) && series.ValueKind == JsonValueKind.Array)
        {
            foreach (var s in series.EnumerateArray())
            {
                var folder = s.TryGetProperty("folder", out var f) ? f.GetString() : null;
                if (string.IsNullOrEmpty(folder)) throw new AlgorithmInputException("manifest.json: a series entry has no 'folder'");
                var dir = Path.GetFullPath(Path.Combine(input, folder));
                if (!dir.StartsWith(input + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    throw new AlgorithmInputException($"manifest.json: folder '{folder}' lies outside the input");
                if (!System.IO.Directory.Exists(dir)) throw new AlgorithmInputException($"manifest.json names the folder {folder}, which does not exist");
                items.Add(new InputItem(Path.GetFileName(dir), dir));
            }
            return items;
        }
        var root = System.IO.Directory.Exists(Path.Combine(input, "series")) ? Path.Combine(input, "series") : input;
        foreach (var dir in System.IO.Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
            if (System.IO.Directory.EnumerateFiles(dir).Any()) items.Add(new InputItem(Path.GetFileName(dir), dir));
        return items;
    }

    private static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new AlgorithmInputException($"{Path.GetFileName(path)} is not valid JSON: {e.Message}");
        }
    }

    /// <summary>The parameter from params.json, else from KAAPANA_PARAM_&lt;NAME&gt;, else <paramref name="defaultValue"/>.</summary>
    /// <exception cref="AlgorithmInputException">The value is not a finite number.</exception>
    public double Number(string name, double defaultValue)
    {
        if (_params is { } p && TryGetProperty(p, name, out var v) && v.ValueKind != JsonValueKind.Null)
        {
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)) return d;
            if (v.ValueKind == JsonValueKind.String) return ParseNumber(name, v.GetString()!);
            throw new AlgorithmInputException($"parameter '{name}' must be a number, not {v.GetRawText()}");
        }
        return Environment.GetEnvironmentVariable(EnvName(name)) is { Length: > 0 } text ? ParseNumber(name, text) : defaultValue;
    }

    /// <summary>The parameter from params.json, else from KAAPANA_PARAM_&lt;NAME&gt;, else <paramref name="defaultValue"/>.</summary>
    public string Text(string name, string defaultValue)
    {
        if (_params is { } p && TryGetProperty(p, name, out var v) && v.ValueKind != JsonValueKind.Null)
            return v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
        return Environment.GetEnvironmentVariable(EnvName(name)) ?? defaultValue;
    }

    // The engine checks names case-insensitively; accept what it wrote in any case.
    private static bool TryGetProperty(JsonElement obj, string name, out JsonElement value)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    private static string EnvName(string name) => "KAAPANA_PARAM_" + name.ToUpperInvariant();

    private static double ParseNumber(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? d
            : throw new AlgorithmInputException($"parameter '{name}' must be a number, not '{text}'");
}

/// <summary>Bad input or parameters: the algorithm stops with this message on stderr and a non-zero exit code.</summary>
public sealed class AlgorithmInputException(string message) : Exception(message);
