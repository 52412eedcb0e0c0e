namespace Kaapana.Web.State;

/// <summary>The number keys 1–9 name the project's nine most recent tags, newest first.</summary>
public static class TagShortcuts
{
    public const int Count = 9;

    /// <summary>The tag key <paramref name="key"/> ("1"…"9", as KeyboardEvent.key) toggles, or null (another key, or fewer recent tags).</summary>
    public static string? TagFor(string? key, IReadOnlyList<string> recent)
    {
        if (key is not { Length: 1 } || key[0] is < '1' or > '9') return null;
        int n = key[0] - '1';
        return n < recent.Count && n < Count ? recent[n] : null;
    }

    /// <summary>The legend: ("1", tag), ("2", tag)… for the recent tags.</summary>
    public static IEnumerable<(string Key, string Tag)> Legend(IReadOnlyList<string> recent) =>
        recent.Take(Count).Select((t, i) => ((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), t));
}
