namespace Kaapana.Core.Workflows.Docker;

/// <summary>A container carrying this server instance's labels.</summary>
/// <param name="State">Docker's state: created, running, exited, dead, ...</param>
public sealed record ManagedContainer(string ContainerId, string RunId, string ItemId, string State, DateTimeOffset Created);
