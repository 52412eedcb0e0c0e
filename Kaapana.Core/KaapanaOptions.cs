using Kaapana.Core.Archive;

namespace Kaapana.Core;

/// <summary>Settings bound from the <c>Kaapana</c> configuration section (env: <c>Kaapana__*</c>).</summary>
public sealed class KaapanaOptions
{
    public const string SectionName = "Kaapana";

    /// <summary>
    /// Folder holding the index database, the job store and the logs. A relative path is
    /// resolved against the current directory once, at startup, so every component sees
    /// the same absolute path.
    /// </summary>
    public string DataDir { get; set; } = "./data";

    public string IndexDatabasePath => Path.Combine(DataDir, "kaapana.db");

    public string JobsDatabasePath => Path.Combine(DataDir, "jobs.db");

    public string LogsDir => Path.Combine(DataDir, "logs");

    /// <summary>Root of the stored DICOM files (layout: <c>Kaapana.Core/Archive/README.md</c>).</summary>
    public string ArchiveDir => Path.Combine(DataDir, "archive");

    /// <summary>The <c>Kaapana:Archive</c> section: durability, duplicate policy, batching, series stability, receiving endpoints.</summary>
    public ArchiveOptions Archive { get; set; } = new();
}
