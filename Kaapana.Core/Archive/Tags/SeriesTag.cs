namespace Kaapana.Core.Archive.Tags;

/// <summary>A free-text label on a series, with who set it and when. Deleted with its series.</summary>
public sealed class SeriesTag
{
    public long SeriesId { get; set; }

    public required string Tag { get; set; }

    /// <summary>The user name, or null when set by a process without a user.</summary>
    public string? CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// How often and how lately a tag was applied in a project: orders autocomplete and the number-key shortcuts. Kept apart from
/// <see cref="SeriesTag"/> so that removing a tag from every series leaves it recent (the 1–9 keys toggle it back on).
/// </summary>
public sealed class TagUsage
{
    public int ProjectId { get; set; }

    public required string Tag { get; set; }

    public int UseCount { get; set; }

    public DateTime LastUsedAt { get; set; }
}
