using Kaapana.Core.Access.Dicom;
using Kaapana.Core.Archive.Dicom;
using Kaapana.Core.Archive.Import;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Archive.Query;
using Kaapana.Dicom.Network;
using Kaapana.Dicom.Network.Query;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kaapana.Server.Extensions;

public static class DicomReceiverExtensions
{
    /// <summary>
    /// The DICOM application entity (port 11112, AE title KAAPANA plus the receiving endpoints' titles by default):
    /// C-ECHO, C-STORE into the archive, C-FIND/C-MOVE/C-GET from the index (Patient and Study Root). Settings: <c>Kaapana:Dicom:*</c> (<see cref="DicomReceiverOptions"/>).
    /// Call after <see cref="ArchiveExtensions.AddKaapanaArchive"/>: hosted services start in registration order, so the
    /// listener opens after the archive's endpoints are seeded, and stops before the index writer drains.
    /// </summary>
    public static IHostApplicationBuilder AddKaapanaDicomReceiver(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<DicomReceiverOptions>(builder.Configuration.GetSection(DicomReceiverOptions.SectionName));
        // The DICOM door (Kaapana:Dicom:Access + rules in the index): who may associate, which services, which projects.
        // Policy, handlers and the association's audit record share the association's scope.
        services.Configure<DicomAccessOptions>(builder.Configuration.GetSection(DicomAccessOptions.SectionName));
        services.AddSingleton<DicomAccessRules>();
        services.AddSingleton<DicomProjectScopes>();
        services.AddScoped<DicomAssociationAudit>();
        services.AddScoped<IAssociationPolicy, DicomAccessPolicy>();
        // Handlers are resolved once per association, in a scope of their own.
        services.AddScoped<IStoreHandler, ArchiveStoreHandler>();
        services.TryAddSingleton<IndexSearch>(); // shared with QIDO-RS
        services.AddScoped<IndexQueryHandler>();
        services.AddScoped<IFindHandler>(sp => sp.GetRequiredService<IndexQueryHandler>());
        services.AddScoped<IMoveHandler>(sp => sp.GetRequiredService<IndexQueryHandler>());
        services.AddScoped<IGetHandler>(sp => sp.GetRequiredService<IndexQueryHandler>());
        // Keys without an index column are return-only (C-FIND answers FF01 for them).
        services.AddSingleton(new DicomQueryRetrieveOptions
        {
            MatchOptions = IndexSearch.MatchOptions,
        });
        services.AddSingleton<DicomReceiverService>();
        services.AddHostedService(sp => sp.GetRequiredService<DicomReceiverService>());
        // Query/retrieve against remote nodes (import a study into a project, send a series); the node directory is the archive's.
        services.AddSingleton<RemoteNodeEcho>();
        services.AddSingleton<IRemoteImportService, RemoteImportService>();
        // An endpoint added or removed by an admin is answered (or refused) from the next association, not the next refresh.
        services.AddSingleton<IReceivingEndpointObserver>(sp => new CalledAETitleRefresh(sp.GetRequiredService<DicomReceiverService>()));
        return builder;
    }

    private sealed class CalledAETitleRefresh(DicomReceiverService receiver) : IReceivingEndpointObserver
    {
        public Task ReceivingEndpointsChangedAsync(CancellationToken ct) => receiver.RefreshCalledAETitlesAsync(ct);
    }
}
