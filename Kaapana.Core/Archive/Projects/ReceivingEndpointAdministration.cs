namespace Kaapana.Core.Archive.Projects;

/// <summary>A receiving endpoint with the names of its project and dataset, as the admin page and <c>/api/endpoints</c> show it.</summary>
public sealed record ReceivingEndpointInfo(int Id, string AETitle, int ProjectId, string Project, int? DatasetId, string? Dataset, string? Description);

/// <summary>A project with what it holds, for the admin page.</summary>
public sealed record ProjectSummary(int Id, string Name, string? Description, DateTime CreatedAt, int Series, long Instances, long Bytes, int Datasets);

public enum ProjectDeleteOutcome
{
    Deleted,
    NotFound,

    /// <summary>The project still holds series or workflow runs (or is the default project); nothing was deleted.</summary>
    NotEmpty,
}

/// <summary>An administrative change that breaks a rule (bad AE title, taken name, dataset of another project); nothing was changed.</summary>
public sealed class CatalogValidationException(string message) : Exception(message);

/// <summary>
/// Told after receiving endpoints changed, so a change takes effect at once: the DICOM receiver re-reads the called AE titles
/// it answers instead of waiting for its periodic refresh.
/// </summary>
public interface IReceivingEndpointObserver
{
    Task ReceivingEndpointsChangedAsync(CancellationToken ct);
}
