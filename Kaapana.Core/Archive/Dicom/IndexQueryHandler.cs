using System.Runtime.CompilerServices;
using Kaapana.Core.Access.Dicom;
using Kaapana.Core.Archive.Query;
using Kaapana.Core.Archive.Storage;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Kaapana.Dicom.Network.Query;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Dicom;

/// <summary>
/// C-FIND, C-MOVE and C-GET SCP over the archive index (Patient Root and Study Root, every level). The matching itself is
/// <see cref="IndexSearch"/>, which QIDO-RS uses too, so both answer the same keys with the same entities. Keys without an
/// index column are return-only (<see cref="SupportedKeys"/>, set as <see cref="QueryMatchOptions.IsKeySupported"/>: the SCU
/// gets FF01).
/// <para>Project scope: a query or retrieval through a receiving endpoint's AE title sees only that endpoint's project
/// (<see cref="DicomProjectScopes"/>); outside it nothing matches, so a C-MOVE/C-GET of another project's study finds no
/// instance and reports zero sub-operations (no count, no UID). One instance serves one association (scoped), so the
/// scope is resolved once. Every query and retrieval is noted in the association's audit record.</para>
/// </summary>
public sealed class IndexQueryHandler(
    IndexSearch search,
    IArchiveStorage storage,
    DicomProjectScopes scopes,
    DicomAssociationAudit audit,
    IRemoteNodeDirectory nodes,
    ILogger<IndexQueryHandler> logger) : IFindHandler, IMoveHandler, IGetHandler
{
    private (string CalledAE, int[]? Projects)? _scope;

    private async ValueTask<int[]?> ScopeAsync(string calledAE, CancellationToken ct)
    {
        if (_scope is { } s && s.CalledAE == calledAE) return s.Projects;
        var projects = await scopes.ResolveAsync(calledAE, ct).ConfigureAwait(false);
        _scope = (calledAE, projects);
        return projects;
    }

    /// <summary>Second check behind negotiation (which accepts contexts only for granted services): refuse anything not granted.</summary>
    private bool Granted(DimseServiceRights right, DicomQueryRetrieveRequest request)
    {
        if ((audit.Rights & right) == right) return true;
        logger.LogWarning("{Operation} from {CallingAE} to {CalledAE} refused: not granted by the DICOM access rules", right, request.CallingAE, request.CalledAE);
        return false;
    }
    /// <summary>Keys this handler matches on; others are return-only (answered empty when asked for).</summary>
    public static bool SupportedKeys(DicomTag tag) => IndexSearch.SupportedKeys(tag);

    // ------------------------------------------------------------------ C-FIND

    public async IAsyncEnumerable<DicomDataset> FindAsync(DicomFindRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        var keys = request.Query.MatchingKeys.ToDictionary(k => k.Name, k => request.Identifier.GetString(k.Tag));
        if (!Granted(DimseServiceRights.Find, request))
        {
            audit.Queried(request.Level.ToCode(), keys, -1);
            yield break;
        }
        var projects = await ScopeAsync(request.CalledAE, ct).ConfigureAwait(false);
        var result = await search.SearchAsync(request.Level, request.Query, IndexSearchOptions.Default with { ProjectIds = projects }, ct).ConfigureAwait(false);
        int matches = 0;
        try
        {
            await foreach (var candidate in result.Matches.WithCancellation(ct).ConfigureAwait(false))
            {
                matches++;
                yield return candidate;
            }
        }
        finally
        {
            audit.Queried(request.Level.ToCode(), keys, matches);
        }
    }

    // ------------------------------------------------------------------ C-MOVE / C-GET

    public async ValueTask<DicomApplicationEntity?> ResolveDestinationAsync(string aeTitle, DicomRetrieveRequest request, CancellationToken ct)
    {
        var node = await nodes.FindAsync(aeTitle, ct).ConfigureAwait(false);
        if (node is null) logger.LogWarning("C-MOVE from {CallingAE} to unknown destination {Destination}", request.CallingAE, aeTitle);
        return node is null ? null : new DicomApplicationEntity(node.AETitle, node.Host, node.Port);
    }

    /// <summary>The instances below the identifier's unique keys (any level), matched like an IMAGE-level C-FIND.</summary>
    public async IAsyncEnumerable<DicomRetrieveInstance> GetInstancesAsync(DicomRetrieveRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        bool move = request.Operation == QueryRetrieveOperation.Move;
        if (!Granted(move ? DimseServiceRights.Move : DimseServiceRights.Get, request)) yield break;
        var projects = await ScopeAsync(request.CalledAE, ct).ConfigureAwait(false);
        await foreach (var i in search.FindInstancesAsync(request.Query, projects, ct).ConfigureAwait(false))
        {
            audit.Retrieved(move ? "move" : "get", request.MoveDestination, i.Series.Study.StudyInstanceUID);
            var key = i.StoragePath;
            yield return DicomRetrieveInstance.FromPart10(i.SOPClassUID, i.SOPInstanceUID, DicomTransferSyntax.Lookup(i.TransferSyntaxUID),
                _ => ValueTask.FromResult(storage.OpenRead(key)));
        }
    }
}
