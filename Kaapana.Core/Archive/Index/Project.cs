namespace Kaapana.Core.Archive.Index;

/// <summary>A research project: the unit that data, users and workflow runs are grouped by.</summary>
public sealed class Project
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>UTC. <see cref="DateTime"/> rather than <see cref="DateTimeOffset"/>, which SQLite cannot order or compare in queries.</summary>
    public DateTime CreatedAt { get; set; }
}
