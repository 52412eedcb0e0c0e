using Kaapana.Core.Access;
using Microsoft.Extensions.Options;

namespace Kaapana.Web.State;

/// <summary>
/// The project the user works in, per circuit, and what the user may see: the caller's <see cref="AccessScope"/> and the
/// projects it may read. Only a visible project can ever become current (a stale value or a <c>?project=</c> naming another
/// project is ignored), so pages that follow <see cref="Name"/> never show a project the user is not a member of.
/// </summary>
public sealed class CurrentProject(ICurrentCaller caller, IAccessControl access, IOptions<Kaapana.Core.KaapanaOptions> options)
{
    private Task? _loading;

    public string? Name { get; private set; }

    /// <summary>The caller's rights, as of the last load (every page load refreshes it, so membership changes arrive).</summary>
    public AccessScope Scope { get; private set; } = AccessScope.None;

    /// <summary>Projects the user may read, by name, with the user's own role there.</summary>
    public IReadOnlyList<VisibleProject> Visible { get; private set; } = [];

    public bool Loaded { get; private set; }

    /// <summary>The scope of every read query: null = every project (site admin), empty = none.</summary>
    public int[]? ReadableIds => Scope.ProjectsWith(ProjectPermission.Read);

    /// <summary>The current project, when there is one the user may read.</summary>
    public VisibleProject? Project => Visible.FirstOrDefault(p => p.Name == Name);

    /// <summary>Signed in but a member of nothing (and not a site admin): pages show a notice instead of data.</summary>
    public bool HasNoProject => Loaded && Visible.Count == 0 && !Scope.IsSiteAdmin;

    /// <summary>May the user do <paramref name="permission"/> in the current project?</summary>
    public bool Can(ProjectPermission permission) => Project is { } p && Scope.Can(p.Id, permission);

    public event Action? Changed;

    /// <summary>Loads once per circuit (components call this; the in-flight load is shared).</summary>
    public Task EnsureLoadedAsync() => _loading ??= LoadAsync();

    /// <summary>Loads again: the layout calls it on every navigation, so a changed membership shows on the next page.</summary>
    public Task RefreshAsync() => _loading = LoadAsync();

    private async Task LoadAsync()
    {
        Scope = await caller.GetAsync();
        Visible = await access.ProjectsAsync(Scope, ProjectPermission.Read);
        Loaded = true;
        var name = Name;
        if (name is null || !Visible.Any(p => p.Name == name))
        {
            var fallback = options.Value.Archive.DefaultProject;
            name = Visible.Any(p => p.Name == fallback) ? fallback : Visible.FirstOrDefault()?.Name;
        }
        if (name != Name)
        {
            Name = name;
            Changed?.Invoke();
        }
    }

    /// <summary>Makes <paramref name="name"/> current when the user may read it; false (and no change) otherwise.</summary>
    public bool Set(string? name)
    {
        if (string.Equals(name, Name, StringComparison.Ordinal)) return true;
        if (name is null || !Visible.Any(p => p.Name == name)) return false;
        Name = name;
        Changed?.Invoke();
        return true;
    }
}
