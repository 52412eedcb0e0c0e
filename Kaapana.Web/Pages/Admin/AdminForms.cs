using Kaapana.Core.Archive.Dicom;

namespace Kaapana.Web.Pages.Admin;

/// <summary>The receiving endpoint form. <see cref="Validate"/> runs before anything is saved; the catalog checks again.</summary>
public sealed class EndpointsForm
{
    public string? AETitle { get; set; }
    public string? Project { get; set; }
    public string? Dataset { get; set; }
    public string? Description { get; set; }

    /// <param name="existing">AE titles of the endpoints there are.</param>
    /// <param name="isNew">Adding (the AE title must be free) rather than editing.</param>
    public string? Validate(IEnumerable<string> existing, bool isNew)
    {
        if (AETitleRules.Check(AETitle) is { } error) return error;
        if (isNew && existing.Contains(AETitle!.Trim(), StringComparer.Ordinal)) return $"AE title '{AETitle.Trim()}' is already a receiving endpoint.";
        if (string.IsNullOrWhiteSpace(Project)) return "Choose the project the data goes to.";
        return Description is { Length: > 4000 } ? "The description is longer than 4000 characters." : null;
    }
}

/// <summary>The remote node form (rules: <see cref="RemoteNodeDirectory.Validate"/>, plus a free AE title).</summary>
public sealed class NodesForm
{
    public string? AETitle { get; set; }
    public string? Host { get; set; }
    public int Port { get; set; } = 104;
    public string? Description { get; set; }

    public RemoteNodeInput ToInput() => new(AETitle, Host, Port, Description);

    /// <param name="others">The nodes there are, except the one being edited.</param>
    public string? Validate(IEnumerable<RemoteNodeEntry> others)
    {
        if (RemoteNodeDirectory.Validate(ToInput()) is { } error) return error;
        var ae = AETitle!.Trim();
        return others.FirstOrDefault(n => n.AETitle == ae) is { } taken
            ? taken.FromConfiguration ? $"AE title '{ae}' is a node from configuration." : $"A remote node with AE title '{ae}' exists already."
            : null;
    }
}

/// <summary>The new-project form.</summary>
public sealed class ProjectsForm
{
    public string? Name { get; set; }
    public string? Description { get; set; }

    public string? Validate(IEnumerable<string> existing)
    {
        var name = Name?.Trim();
        if (string.IsNullOrEmpty(name)) return "A project needs a name.";
        if (name.Length > 200) return "A project name has at most 200 characters.";
        if (existing.Contains(name, StringComparer.Ordinal)) return $"A project named '{name}' exists already.";
        return Description is { Length: > 4000 } ? "The description is longer than 4000 characters." : null;
    }
}
