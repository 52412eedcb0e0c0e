using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Workflows.Engine;

/// <summary>
/// What happens to an item's work folder when the item ends, for container and built-in items alike: removed, unless
/// <see cref="WorkflowOptions.KeepWorkFolders"/> keeps it for debugging or the server is stopping (the item runs again at the
/// next start and rebuilds it). A folder that cannot be removed is logged; it does not change the item's outcome.
/// </summary>
internal static class WorkFolderCleanup
{
    public static void RemoveUnlessKept(string workDir, WorkflowOptions options, CancellationToken shutdown, ILogger logger)
    {
        if (options.KeepWorkFolders || shutdown.IsCancellationRequested) return;
        try
        {
            if (Directory.Exists(workDir)) Directory.Delete(workDir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Could not remove the work folder {Dir}", workDir);
        }
    }
}
