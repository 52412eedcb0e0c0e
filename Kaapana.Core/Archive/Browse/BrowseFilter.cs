using System.Collections.Immutable;
using System.Text;

namespace Kaapana.Core.Archive.Browse;

/// <summary>How the browser orders series.</summary>
public enum BrowseSort
{
    /// <summary>Patient, then study date and study, then series number: the order the grouped table needs.</summary>
    Patient,
    StudyDate,
    Arrival,
    Modality,
    SeriesDescription,
    Instances,
}

/// <summary>
/// What the data browser shows: the project, free text, facet filters (AND across keywords, OR among the values of one
/// keyword), a Study Date range, an arrival day and the sort. Immutable; every change returns a new filter, so it can live in
/// the URL (<see cref="ToQueryString"/> / <see cref="Parse"/>) and be shared.
/// </summary>
public sealed record BrowseFilter
{
    public string? Project { get; init; }

    /// <summary>Only series of this dataset (the browser scoped to a dataset).</summary>
    public int? Dataset { get; init; }

    public string? Text { get; init; }

    /// <summary>DICOM keyword → accepted values; keys ordinal, values sorted and distinct.</summary>
    public ImmutableSortedDictionary<string, ImmutableSortedSet<string>> Facets { get; init; } =
        ImmutableSortedDictionary.Create<string, ImmutableSortedSet<string>>(StringComparer.Ordinal);

    /// <summary>Inclusive Study Date bounds as DICOM DA (YYYYMMDD).</summary>
    public string? StudyDateFrom { get; init; }
    public string? StudyDateTo { get; init; }

    /// <summary>Series first received on this UTC day.</summary>
    public DateOnly? ArrivedOn { get; init; }

    public BrowseSort Sort { get; init; } = BrowseSort.StudyDate;
    public bool Descending { get; init; } = true;

    public bool HasValue(string keyword, string value) => Facets.TryGetValue(keyword, out var v) && v.Contains(value);

    /// <summary>Adds the value to the keyword's OR-set, or removes it (and the keyword when no value is left).</summary>
    public BrowseFilter Toggle(string keyword, string value)
    {
        var values = Facets.TryGetValue(keyword, out var v) ? v : ImmutableSortedSet.Create<string>(StringComparer.Ordinal);
        values = values.Contains(value) ? values.Remove(value) : values.Add(value);
        return this with { Facets = values.IsEmpty ? Facets.Remove(keyword) : Facets.SetItem(keyword, values) };
    }

    public BrowseFilter With(string keyword, params IEnumerable<string> values)
    {
        var set = values.ToImmutableSortedSet(StringComparer.Ordinal);
        return this with { Facets = set.IsEmpty ? Facets.Remove(keyword) : Facets.SetItem(keyword, set) };
    }

    public BrowseFilter Without(string keyword) => this with { Facets = Facets.Remove(keyword) };

    /// <summary>The filter without the keyword's own values: what that keyword's facet counts are computed over.</summary>
    public BrowseFilter ForFacet(string keyword) => Without(keyword);

    public bool IsEmpty => string.IsNullOrWhiteSpace(Text) && Facets.IsEmpty && StudyDateFrom is null && StudyDateTo is null && ArrivedOn is null;

    /// <summary>Equal when the URL forms are equal (the immutable collections compare by reference otherwise).</summary>
    public bool Equals(BrowseFilter? other) => other is not null && ToQueryString() == other.ToQueryString();

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToQueryString());

    private const string FacetPrefix = "f.";

    /// <summary>
    /// The filter as a URL query (without '?'): <c>project=…&amp;dataset=7&amp;q=…&amp;f.Modality=CT&amp;f.Modality=MR&amp;from=20200101&amp;to=…&amp;arrived=2026-11-27&amp;sort=StudyDate&amp;asc=1</c>.
    /// Defaults are left out, so an empty filter gives an empty string.
    /// </summary>
    public string ToQueryString()
    {
        var parts = new List<string>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value)) parts.Add(Uri.EscapeDataString(key) + "=" + Uri.EscapeDataString(value));
        }
        Add("project", Project);
        Add("dataset", Dataset?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("q", Text);
        foreach (var (keyword, values) in Facets)
            foreach (var value in values)
                Add(FacetPrefix + keyword, value);
        Add("from", StudyDateFrom);
        Add("to", StudyDateTo);
        Add("arrived", ArrivedOn?.ToString("yyyy-MM-dd"));
        if (Sort != BrowseSort.StudyDate) Add("sort", Sort.ToString());
        if (!Descending) Add("asc", "1");
        return string.Join("&", parts);
    }

    /// <summary>Reads <see cref="ToQueryString"/>'s form (with or without '?'); unknown keys and malformed values are ignored.</summary>
    public static BrowseFilter Parse(string? query)
    {
        var filter = new BrowseFilter();
        if (string.IsNullOrEmpty(query)) return filter;
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            string key = Unescape(eq < 0 ? pair : pair[..eq]);
            string value = eq < 0 ? "" : Unescape(pair[(eq + 1)..]);
            if (value.Length == 0) continue;
            switch (key)
            {
                case "project": filter = filter with { Project = value }; break;
                case "dataset" when int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var dataset):
                    filter = filter with { Dataset = dataset }; break;
                case "q": filter = filter with { Text = value }; break;
                case "from": filter = filter with { StudyDateFrom = NormalizeDate(value) }; break;
                case "to": filter = filter with { StudyDateTo = NormalizeDate(value) }; break;
                case "arrived" when DateOnly.TryParseExact(value, "yyyy-MM-dd", out var day): filter = filter with { ArrivedOn = day }; break;
                case "sort" when Enum.TryParse<BrowseSort>(value, ignoreCase: true, out var sort): filter = filter with { Sort = sort }; break;
                case "asc": filter = filter with { Descending = value is not ("1" or "true") }; break;
                default:
                    if (key.StartsWith(FacetPrefix, StringComparison.Ordinal) && key.Length > FacetPrefix.Length && !filter.HasValue(key[FacetPrefix.Length..], value))
                        filter = filter.Toggle(key[FacetPrefix.Length..], value);
                    break;
            }
        }
        return filter;
    }

    private static string Unescape(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));

    /// <summary>YYYYMMDD from YYYYMMDD or YYYY-MM-DD; null for anything else.</summary>
    public static string? NormalizeDate(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var sb = new StringBuilder(8);
        foreach (var c in value.Trim())
        {
            if (char.IsAsciiDigit(c)) sb.Append(c);
            else if (c != '-' && c != '.') return null;
        }
        return sb.Length == 8 && DateOnly.TryParseExact(sb.ToString(), "yyyyMMdd", out _) ? sb.ToString() : null;
    }
}
