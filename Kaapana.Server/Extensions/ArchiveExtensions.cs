using Kaapana.Core;
using Kaapana.Core.Archive;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Core.Archive.Maintenance;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Archive.Storage;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Extensions;

public static class ArchiveExtensions
{
    /// <summary>
    /// The archive: file storage under <c>&lt;DataDir&gt;/archive</c>, the ingest pipeline with its batched index writer,
    /// series stability events, projects and datasets, maintenance. Settings: <c>Kaapana:Archive:*</c>
    /// (<see cref="ArchiveOptions"/>). Needs <see cref="IndexExtensions.AddKaapanaIndex"/> first (its migration runs before
    /// the archive's hosted services start).
    /// </summary>
    public static IHostApplicationBuilder AddKaapanaArchive(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<IArchiveStorage>(sp => new FileSystemArchiveStorage(
            sp.GetRequiredService<IOptions<KaapanaOptions>>().Value.ArchiveDir,
            sp.GetRequiredService<IOptions<KaapanaOptions>>().Value.Archive.Durability,
            sp.GetRequiredService<ILogger<FileSystemArchiveStorage>>()));

        services.AddSingleton<Kaapana.Core.Archive.Export.SeriesZipWriter>();
        services.AddSingleton<Kaapana.Core.Archive.Demo.DemoDataGenerator>();
        services.AddSingleton<Kaapana.Core.Archive.Export.ZipExportRegistry>();
        services.AddSingleton<Kaapana.Core.Archive.Tags.ISeriesTagService, Kaapana.Core.Archive.Tags.SeriesTagService>();
        services.AddSingleton<Kaapana.Core.Archive.Browse.IDatasetQueries, Kaapana.Core.Archive.Browse.DatasetQueries>();
        // Remote nodes from configuration and from the index: C-MOVE destinations, import, the send-to-node workflow and the DICOM door.
        services.AddSingleton<Kaapana.Core.Archive.Dicom.IRemoteNodeDirectory, Kaapana.Core.Archive.Dicom.RemoteNodeDirectory>();
        services.AddSingleton<ProjectCatalog>();
        services.AddSingleton<IProjectCatalog>(sp => sp.GetRequiredService<ProjectCatalog>());
        services.AddSingleton<SeriesStabilityMonitor>();
        services.AddSingleton<IArchiveEvents>(sp => sp.GetRequiredService<SeriesStabilityMonitor>());
        services.AddSingleton<IndexWriter>();
        services.AddSingleton<IIngestService, IngestService>();
        services.AddSingleton<IArchiveMaintenance, ArchiveMaintenance>();
        services.AddSingleton<IArchiveQueries, ArchiveQueries>();

        // Start order: initializer (staging cleanup, default project) -> stability monitor -> writer. Stop runs in reverse,
        // so the writer drains its queue before the monitor stops.
        services.AddHostedService<ArchiveInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<SeriesStabilityMonitor>());
        services.AddHostedService(sp => sp.GetRequiredService<IndexWriter>());

        return builder;
    }
}
