namespace Kaapana.Tests.Workflows.BuiltIn;

/// <summary>
/// The built-in tests start in-process hosts with Hangfire, whose <c>AddHangfire</c> goes through the static
/// <c>JobStorage.Current</c>: two such hosts alive at once in one test process can enqueue into each other's job store (seen:
/// a run whose items stayed Queued because another host's server took their jobs). So they run alone, like the Docker tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BuiltInCollection
{
    public const string Name = "Built-in workflows (in-process Hangfire hosts)";
}
