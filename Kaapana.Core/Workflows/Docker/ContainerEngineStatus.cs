namespace Kaapana.Core.Workflows.Docker;

/// <summary>Result of an availability check: the engine's version when it answered, the reason when it did not.</summary>
public sealed record ContainerEngineStatus(bool Available, string Endpoint, string? Version, string? ApiVersion, string? Error)
{
    public static ContainerEngineStatus Up(string endpoint, string version, string apiVersion) => new(true, endpoint, version, apiVersion, null);

    public static ContainerEngineStatus Down(string endpoint, string error) => new(false, endpoint, null, null, error);
}
