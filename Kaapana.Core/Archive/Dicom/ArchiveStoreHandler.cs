using Kaapana.Core.Access.Dicom;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Ingest;
using Kaapana.Dicom.Network;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Archive.Dicom;

/// <summary>
/// C-STORE SCP into the archive: streams the data set of each C-STORE-RQ into <see cref="IIngestService"/> (which writes the
/// Part 10 header in front of it) and answers only after ingest returned, i.e. once file and index row are durable. The
/// project (and dataset) come from the receiving endpoint of the called AE title, resolved by the ingest pipeline.
/// Stores are refused (0x0124 "not authorized") when the association's access decision did not grant Store: negotiation
/// normally keeps such peers off storage contexts, but C-GET role selection can open them for the sub-operations.
/// </summary>
public sealed class ArchiveStoreHandler(IIngestService ingest, DicomAssociationAudit audit, ILogger<ArchiveStoreHandler> logger) : IStoreHandler
{
    public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken ct)
    {
        if ((audit.Rights & DimseServiceRights.Store) == 0)
        {
            logger.LogWarning("C-STORE {SopInstanceUid} from {CallingAE} to {CalledAE} refused: not granted by the DICOM access rules",
                request.SopInstanceUid, request.CallingAE, request.CalledAE);
            request.ErrorComment = "storage not granted to this AE title";
            audit.Stored(null, success: false);
            return DicomStatus.NotAuthorized;
        }
        var context = new IngestContext
        {
            Source = IngestSource.Dimse,
            CallingAE = request.CallingAE,
            CalledAE = request.CalledAE,
            PeerAddress = request.RemoteEndPoint?.ToString(),
            DatasetEncoding = new DatasetEncoding(request.TransferSyntax, request.SopClassUid, request.SopInstanceUid, request.CallingAE),
        };
        var result = await ingest.IngestAsync(request.Dataset, context, ct).ConfigureAwait(false);
        var status = ToStatus(request.SopClassUid, result, out var comment);
        request.ErrorComment = comment;
        audit.Stored(result.StudyInstanceUid, status.IsSuccess);
        if (!status.IsSuccess)
            logger.LogWarning("C-STORE {SopInstanceUid} from {CallingAE} to {CalledAE}: {Status} {Reason}",
                request.SopInstanceUid, request.CallingAE, request.CalledAE, status, comment);
        return status;
    }

    /// <summary>
    /// Ingest outcome -> C-STORE status (PS3.4 B.2.3): stored or duplicate -> 0000, or B007 when the data set's SOP class is not
    /// the one the command announced; rejected -> A900 (data set / SOP class mismatch) or C000 (cannot understand), with the
    /// reason as error comment; failed -> A700 (out of resources) or 0110 (processing failure).
    /// </summary>
    public static DicomStatus ToStatus(string announcedSopClassUid, IngestResult result, out string? errorComment)
    {
        errorComment = result.Reason;
        switch (result.Status)
        {
            case IngestStatus.Stored or IngestStatus.Duplicate:
                if (result.SopClassUid is { } cls && cls != announcedSopClassUid)
                {
                    errorComment = "data set SOP class " + cls;
                    return DicomStatus.DataSetDoesNotMatchSopClassWarning;
                }
                errorComment = null;
                return DicomStatus.Success;
            case IngestStatus.Rejected:
                return result.SopClassUid is { } c && c != announcedSopClassUid ? DicomStatus.DataSetDoesNotMatchSopClass : DicomStatus.CannotUnderstand;
            default:
                return result.Failure == IngestFailure.OutOfResources ? DicomStatus.OutOfResources : DicomStatus.ProcessingFailure;
        }
    }
}
