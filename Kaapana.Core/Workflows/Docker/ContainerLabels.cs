namespace Kaapana.Core.Workflows.Docker;

/// <summary>Label keys on images and containers.</summary>
public static class ContainerLabels
{
    /// <summary>On an image: the algorithm manifest JSON.</summary>
    public const string Algorithm = "org.kaapana.algorithm";

    /// <summary>On a container: the run it belongs to.</summary>
    public const string Run = "org.kaapana.run";

    /// <summary>On a container: the work item it processes.</summary>
    public const string Item = "org.kaapana.item";

    /// <summary>On a container: the server instance that started it (<see cref="DockerOptions.InstanceId"/>).</summary>
    public const string Instance = "org.kaapana.instance";
}
