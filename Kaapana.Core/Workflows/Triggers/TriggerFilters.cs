using System.Collections.Immutable;
using System.Text.Json;
using Kaapana.Core.Archive.Browse;

namespace Kaapana.Core.Workflows.Triggers;

/// <summary>
/// A rule's metadata filters: checked and normalised (keywords the index can answer, trimmed distinct values), stored as
/// JSON, and turned into a <see cref="BrowseFilter"/> so matching a series is the data browser's query.
/// </summary>
public static class TriggerFilters
{
    public const int MaxKeywords = 20;
    public const int MaxValuesPerKeyword = 100;

    /// <summary>The normalised filters, or every problem found (unknown keywords, keywords without values).</summary>
    public static (SortedDictionary<string, IReadOnlyList<string>> Filters, List<string> Errors) Check(IReadOnlyDictionary<string, IReadOnlyList<string>>? given)
    {
        var filters = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var errors = new List<string>();
        if (given is null) return (filters, errors);
        if (given.Count > MaxKeywords) errors.Add($"filters: at most {MaxKeywords} keywords");
        foreach (var (rawKeyword, rawValues) in given)
        {
            var keyword = rawKeyword?.Trim() ?? "";
            if (keyword.Length == 0)
            {
                errors.Add("filters: a filter has no keyword");
                continue;
            }
            // JSON clients camel-case object keys ("modality"): a keyword that differs only in case is the keyword.
            if (BrowseKeywords.Resolve(keyword) is null && BrowseKeywords.Suggest(keyword, 5).FirstOrDefault(k => string.Equals(k, keyword, StringComparison.OrdinalIgnoreCase)) is { } canonical)
                keyword = canonical;
            if (BrowseKeywords.Resolve(keyword) is null)
            {
                // A case slip finds the keyword itself; a typo is usually past its first letters.
                var hint = BrowseKeywords.Suggest(keyword, 1).FirstOrDefault() ?? BrowseKeywords.Suggest(keyword[..Math.Min(4, keyword.Length)], 1).FirstOrDefault();
                errors.Add($"filter {keyword}: not a DICOM keyword the index can filter on (public, non-sequence, series level)" +
                    (hint is not null ? $"; did you mean {hint}?" : ""));
                continue;
            }
            var values = (rawValues ?? []).Select(v => v?.Trim() ?? "").Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            if (values.Count == 0) errors.Add($"filter {keyword}: give at least one value");
            else if (values.Count > MaxValuesPerKeyword) errors.Add($"filter {keyword}: at most {MaxValuesPerKeyword} values");
            else if (filters.ContainsKey(keyword)) errors.Add($"filter {keyword}: given twice");
            else filters[keyword] = values;
        }
        return (filters, errors);
    }

    public static string ToJson(IReadOnlyDictionary<string, IReadOnlyList<string>> filters) => JsonSerializer.Serialize(filters);

    public static IReadOnlyDictionary<string, IReadOnlyList<string>> FromJson(string json) =>
        JsonSerializer.Deserialize<SortedDictionary<string, string[]>>(json)!
            .ToDictionary(e => e.Key, e => (IReadOnlyList<string>)e.Value, StringComparer.Ordinal);

    /// <summary>The filters as the browser's facets (project left out: rules hold the project id).</summary>
    public static BrowseFilter ToBrowseFilter(IReadOnlyDictionary<string, IReadOnlyList<string>> filters) => new()
    {
        Facets = filters.ToImmutableSortedDictionary(e => e.Key, e => e.Value.ToImmutableSortedSet(StringComparer.Ordinal), StringComparer.Ordinal),
    };
}
