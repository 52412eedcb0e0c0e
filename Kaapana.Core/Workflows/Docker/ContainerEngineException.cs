namespace Kaapana.Core.Workflows.Docker;

/// <summary>The container engine could not do what was asked (unreachable, image missing, create refused): an infrastructure
/// failure, as opposed to an algorithm that ran and failed.</summary>
public sealed class ContainerEngineException(string message, Exception? innerException = null) : Exception(message, innerException);
