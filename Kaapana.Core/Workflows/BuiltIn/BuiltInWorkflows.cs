using Kaapana.Core.Archive.Index;

namespace Kaapana.Core.Workflows.BuiltIn;

/// <summary>The built-in algorithms the server offers, by name; and how their runs are told apart from container runs.</summary>
public sealed class BuiltInWorkflows(IEnumerable<IBuiltInWorkflow> workflows)
{
    public const string NamePrefix = "builtin/";
    public const string DigestPrefix = "builtin:";

    private readonly Dictionary<string, IBuiltInWorkflow> _byName = workflows.ToDictionary(w => w.Manifest.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<IBuiltInWorkflow> All => _byName.Values;

    /// <summary>What a built-in algorithm records where a container algorithm records its image digest.</summary>
    public static string Digest(string name, string version) => $"{DigestPrefix}{name[NamePrefix.Length..]}@{version}";

    public static bool IsBuiltIn(WorkflowRun run) => run.ImageDigest.StartsWith(DigestPrefix, StringComparison.Ordinal);

    public static bool IsBuiltIn(Algorithm algorithm) => algorithm.Kind == AlgorithmKind.BuiltIn;

    public IBuiltInWorkflow? Find(string algorithmName) => _byName.GetValueOrDefault(algorithmName);
}
