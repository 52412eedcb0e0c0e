namespace Kaapana.Core.Archive.Query;

/// <summary>What a caller of <see cref="IndexSearch"/> wants beyond the keys: a page of the matches, and fuzzy name matching.</summary>
public sealed record IndexSearchOptions
{
    public static IndexSearchOptions Default { get; } = new();

    /// <summary>Matches to skip (in index order, i.e. order of arrival).</summary>
    public int Offset { get; init; }

    /// <summary>Most matches to return; null: all.</summary>
    public int? Limit { get; init; }

    /// <summary>
    /// Person name keys (PN) match fuzzily instead of literally: every word of the value (split at <c>^</c>, <c>=</c> and
    /// spaces) must be a prefix of some word of the name, ignoring case and diacritics (<c>joh</c> and <c>doe^j</c> find
    /// <c>Doe^John</c>, <c>mull</c> finds <c>Müller^Hans</c>). <c>*</c> and <c>?</c> inside a word keep their wildcard meaning.
    /// </summary>
    public bool FuzzyPersonNames { get; init; }

    /// <summary>
    /// Only entities with data in these projects (a patient or study with a series in one of them, such a series, its
    /// instances); null: every project. In a scope the study and patient aggregates (Number of Study/Patient Related
    /// Series/Instances/Studies, Modalities in Study) count only the series in these projects, for answers and matching
    /// alike: the stored ones cover the whole archive and would tell about data outside the scope.
    /// </summary>
    public IReadOnlyCollection<int>? ProjectIds { get; init; }
}
