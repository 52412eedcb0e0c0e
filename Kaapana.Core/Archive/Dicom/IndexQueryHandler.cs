using System.Runtime.CompilerServices;
using Kaapana.Core.Archive.Query;
using Kaapana.Core.Archive.Storage;
using Kaapana.Dicom;
using Kaapana.Dicom.Network.Query;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Dicom;

/// <summary>
/// C-FIND, C-MOVE and C-GET SCP over the archive index (Patient Root and Study Root, every level). The matching itself is
/// <see cref="IndexSearch"/>, which QIDO-RS uses too, so both answer the same keys with the same entities. Keys without an
/// index column are return-only (<see cref="SupportedKeys"/>, set as <see cref="QueryMatchOptions.IsKeySupported"/>: the SCU
/// gets FF01).
/// </summary>
public sealed class IndexQueryHandler(
    IndexSearch search,
    IArchiveStorage storage,
    IRemoteNodeDirectory nodes,
    ILogger<IndexQueryHandler> logger) : IFindHandler, IMoveHandler, IGetHandler
{
    /// <summary>Keys this handler matches on; others are return-only (answered empty when asked for).</summary>
    public static bool SupportedKeys(DicomTag tag) => IndexSearch.SupportedKeys(tag);

    // ------------------------------------------------------------------ C-FIND

    public async IAsyncEnumerable<DicomDataset> FindAsync(DicomFindRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        var result = await search.SearchAsync(request.Level, request.Query, IndexSearchOptions.Default, ct).ConfigureAwait(false);
        await foreach (var candidate in result.Matches.WithCancellation(ct).ConfigureAwait(false)) yield return candidate;
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
        await foreach (var i in search.FindInstancesAsync(request.Query, ct).ConfigureAwait(false))
        {
            var key = i.StoragePath;
            yield return DicomRetrieveInstance.FromPart10(i.SOPClassUID, i.SOPInstanceUID, DicomTransferSyntax.Lookup(i.TransferSyntaxUID),
                _ => ValueTask.FromResult(storage.OpenRead(key)));
        }
    }
}
