using Kaapana.Core.Archive.Browse;

namespace Kaapana.Web.State;

/// <summary>
/// The series the user selected on /browse, without a browser: clicked UIDs, or "every series matching a filter" minus the
/// ones clicked off again. The filter form is kept as the filter (it may match 100,000 series) and resolved to UIDs in
/// chunks on the server only when an action runs (<see cref="ResolveAsync"/>).
/// </summary>
public sealed class SeriesSelection
{
    private readonly HashSet<string> _uids = new(StringComparer.Ordinal);
    private readonly HashSet<string> _excluded = new(StringComparer.Ordinal);

    /// <summary>Set by "Select all matching": the filter whose every series is selected, except <see cref="Excluded"/>.</summary>
    public BrowseFilter? AllMatching { get; private set; }

    /// <summary>How many series <see cref="AllMatching"/> matched when it was chosen.</summary>
    public int AllMatchingCount { get; private set; }

    /// <summary>Row index of the last plain or shift click: the anchor of the next shift-click range.</summary>
    public int? Anchor { get; private set; }

    public IReadOnlyCollection<string> Uids => _uids;
    public IReadOnlyCollection<string> Excluded => _excluded;

    public event Action? Changed;

    public int Count => AllMatching is not null ? Math.Max(0, AllMatchingCount - _excluded.Count) : _uids.Count;

    public bool IsEmpty => Count == 0;

    public bool IsSelected(string uid) => AllMatching is not null ? !_excluded.Contains(uid) : _uids.Contains(uid);

    /// <summary>
    /// A click on row <paramref name="index"/>: toggles that series; with shift, selects every row from the anchor to this one
    /// (either direction), whose UIDs <paramref name="range"/> returns for (first index, count) in display order.
    /// </summary>
    public async Task ClickAsync(int index, string uid, bool shift, Func<int, int, Task<IReadOnlyList<string>>> range)
    {
        if (shift && Anchor is { } anchor && anchor != index)
        {
            int first = Math.Min(anchor, index), count = Math.Abs(anchor - index) + 1;
            foreach (var u in await range(first, count)) Select(u);
        }
        else
        {
            if (IsSelected(uid)) Deselect(uid);
            else Select(uid);
        }
        Anchor = index;
        Changed?.Invoke();
    }

    /// <summary>Selects every series matching <paramref name="filter"/> (<paramref name="count"/> of them now).</summary>
    public void SelectAllMatching(BrowseFilter filter, int count)
    {
        _uids.Clear();
        _excluded.Clear();
        AllMatching = filter;
        AllMatchingCount = count;
        Changed?.Invoke();
    }

    public void Clear()
    {
        _uids.Clear();
        _excluded.Clear();
        AllMatching = null;
        AllMatchingCount = 0;
        Anchor = null;
        Changed?.Invoke();
    }

    /// <summary>
    /// The browser's filter changed: an explicit selection stays (its UIDs still name the same series); an all-matching one
    /// belonged to the old filter and is dropped, as is the range anchor (row indices now mean other rows).
    /// </summary>
    public void FilterChanged(BrowseFilter filter)
    {
        Anchor = null;
        if (AllMatching is not null && !AllMatching.Equals(filter)) Clear();
    }

    /// <summary>Removes series that no longer exist (after a delete) from an explicit selection.</summary>
    public void Forget(IEnumerable<string> uids)
    {
        foreach (var u in uids)
        {
            _uids.Remove(u);
            _excluded.Remove(u);
        }
        Changed?.Invoke();
    }

    /// <summary>The selected UIDs in chunks: the clicked ones, or the filter's series from the server minus the excluded ones.</summary>
    public async IAsyncEnumerable<IReadOnlyList<string>> ResolveAsync(IBrowseQueries queries, int[]? projects, int chunkSize = 1000,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        if (AllMatching is { } filter)
        {
            var excluded = _excluded.ToHashSet(StringComparer.Ordinal);
            await foreach (var chunk in queries.SeriesUidChunksAsync(filter, projects, chunkSize, ct))
            {
                var kept = excluded.Count == 0 ? chunk : chunk.Where(u => !excluded.Contains(u)).ToList();
                if (kept.Count > 0) yield return kept;
            }
        }
        else
        {
            foreach (var chunk in _uids.ToList().Chunk(chunkSize)) yield return chunk;
        }
    }

    private void Select(string uid)
    {
        if (AllMatching is not null) _excluded.Remove(uid);
        else _uids.Add(uid);
    }

    private void Deselect(string uid)
    {
        if (AllMatching is not null) _excluded.Add(uid);
        else _uids.Remove(uid);
    }
}
