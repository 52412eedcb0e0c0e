namespace Kaapana.Core.Access;

/// <summary>A user's membership in a project, with the role it gives them there.</summary>
public sealed class ProjectMember
{
    public int ProjectId { get; set; }
    public required string UserId { get; set; }
    public ProjectRole Role { get; set; }
    public DateTime AddedAt { get; set; }
}
