namespace Kaapana.Core.Workflows;

/// <summary>
/// Where the engine keeps files, under <c>&lt;DataDir&gt;/workflows</c>: per run, <c>work/&lt;item&gt;/{input,output}</c>
/// (removed when the item ends), <c>logs/item-&lt;item&gt;-&lt;attempt&gt;.log</c> and <c>artifacts/&lt;item&gt;/…</c>.
/// Paths stored in the index are relative to the data directory.
/// </summary>
public sealed class WorkflowPaths(string dataDir)
{
    public string DataDir { get; } = dataDir;
    public string Root => Path.Combine(DataDir, "workflows");
    public string RunDir(long runId) => Path.Combine(Root, "runs", runId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    public string WorkDir(long runId, long itemId) => Path.Combine(RunDir(runId), "work", itemId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    public string LogFile(long runId, long itemId, int attempt) => Path.Combine(RunDir(runId), "logs", $"item-{itemId}-{attempt}.log");
    public string ArtifactDir(long runId, long itemId) => Path.Combine(RunDir(runId), "artifacts", itemId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    public string Relative(string path) => Path.GetRelativePath(DataDir, path).Replace('\\', '/');
    public string Absolute(string relative) => Path.GetFullPath(Path.Combine(DataDir, relative));
}
