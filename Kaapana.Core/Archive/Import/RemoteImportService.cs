using Kaapana.Core.Archive.Dicom;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Archive.Storage;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Kaapana.Dicom.Network.Query;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Import;

/// <summary>Study-level C-FIND keys. Empty or null: not matched on. Dates are <c>YYYYMMDD</c>; either end of the range may be open.</summary>
public sealed record RemoteStudyFilter
{
    public string? PatientID { get; init; }
    public string? PatientName { get; init; }
    public string? StudyDateFrom { get; init; }
    public string? StudyDateTo { get; init; }
    public string? AccessionNumber { get; init; }
    /// <summary>Matched against Modalities in Study.</summary>
    public string? Modality { get; init; }
    public string? StudyInstanceUID { get; init; }
}

/// <summary>One study a remote node reported.</summary>
public sealed record RemoteStudy(string StudyInstanceUID, string? PatientID, string? PatientName, string? StudyDate, string? StudyDescription,
    string? AccessionNumber, string? ModalitiesInStudy, int? NumberOfStudyRelatedSeries, int? NumberOfStudyRelatedInstances);

/// <summary>
/// Outcome of <see cref="IRemoteImportService.ImportStudyAsync"/>: the C-MOVE's final status and sub-operation counts, the study's
/// series now in the local index, and how many of them were newly linked to the project (and dataset).
/// </summary>
public sealed record RemoteImportResult(string StudyInstanceUID, string Status, bool Succeeded, int Completed, int Failed, int Warning,
    IReadOnlyList<string> FailedSopInstanceUIDs, string? ErrorComment, IReadOnlyList<string> SeriesInstanceUIDs, int SeriesAddedToProject,
    int SeriesAddedToDataset);

/// <summary>C-STORE outcome of one instance sent by <see cref="IRemoteImportService.SendSeriesAsync"/>.</summary>
public sealed record RemoteSendInstanceResult(string SOPInstanceUID, string? Status, bool Succeeded, string? Error);

public sealed record RemoteSendResult(string SeriesInstanceUID, int Succeeded, int Failed, IReadOnlyList<RemoteSendInstanceResult> Instances);

/// <summary>A request that cannot be carried out as asked (unknown project, dataset or series); nothing was sent.</summary>
public sealed class RemoteImportException(string message) : Exception(message);

/// <summary>
/// Query/retrieve against remote DICOM nodes (looked up in <see cref="IRemoteNodeDirectory"/>), as the server's own AE title:
/// C-ECHO, Study Root C-FIND, C-MOVE of a study to ourselves (import into a project), C-STORE of a series from the archive.
/// </summary>
public interface IRemoteImportService
{
    /// <exception cref="DicomNetworkException">Not reachable, association rejected or aborted.</exception>
    Task<DicomStatus> EchoAsync(RemoteNodeOptions node, CancellationToken ct = default);

    /// <summary>Study Root, STUDY level C-FIND.</summary>
    /// <exception cref="DicomNetworkException">Not reachable, rejected, aborted, or a failure status (<see cref="DicomRequestFailedException"/>).</exception>
    Task<IReadOnlyList<RemoteStudy>> FindStudiesAsync(RemoteNodeOptions node, RemoteStudyFilter filter, CancellationToken ct = default);

    /// <summary>
    /// C-MOVE of the study to this server's AE title (the node must know it as a destination). The instances arrive through the
    /// DICOM receiver like any other push (and so are filed by its usual rules, e.g. the default project); when the move has
    /// ended, every series of the study in the local index is added to <paramref name="project"/> (and <paramref name="dataset"/>).
    /// </summary>
    /// <exception cref="RemoteImportException">The project or dataset does not exist (checked before anything is moved).</exception>
    /// <exception cref="DicomNetworkException">Not reachable, rejected or aborted.</exception>
    Task<RemoteImportResult> ImportStudyAsync(RemoteNodeOptions node, string studyInstanceUid, string project, string? dataset = null, CancellationToken ct = default);

    /// <summary>C-STORE of every archived instance of the series to the node, over one association, streamed from <see cref="IArchiveStorage"/>.</summary>
    /// <exception cref="RemoteImportException">The series is not in the index.</exception>
    /// <exception cref="DicomNetworkException">Not reachable or association rejected.</exception>
    Task<RemoteSendResult> SendSeriesAsync(RemoteNodeOptions node, string seriesInstanceUid, CancellationToken ct = default);
}

public sealed class RemoteImportService(
    DicomReceiverService receiver,
    IProjectCatalog catalog,
    IArchiveStorage storage,
    IDbContextFactory<KaapanaDbContext> dbFactory,
    ILoggerFactory loggerFactory) : IRemoteImportService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<RemoteImportService>();

    /// <summary>Longest wait for a remote answer (a pending C-MOVE response restarts it).</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromMinutes(5);

    private DicomClient Client(RemoteNodeOptions node) => new(new DicomClientOptions
    {
        Host = node.Host,
        Port = node.Port,
        CalledAE = node.AETitle.Trim(),
        CallingAE = receiver.AETitle,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        ResponseTimeout = ResponseTimeout,
    }, loggerFactory: loggerFactory);

    public Task<DicomStatus> EchoAsync(RemoteNodeOptions node, CancellationToken ct = default) => Client(node).EchoAsync(ct);

    public async Task<IReadOnlyList<RemoteStudy>> FindStudiesAsync(RemoteNodeOptions node, RemoteStudyFilter filter, CancellationToken ct = default)
    {
        var id = new DicomDataset();
        void Key(DicomTag tag, string? value)
        {
            if (string.IsNullOrWhiteSpace(value)) id.Set(tag);
            else id.Set(tag, value.Trim());
        }
        Key(DicomTags.StudyInstanceUID, filter.StudyInstanceUID);
        Key(DicomTags.PatientID, filter.PatientID);
        Key(DicomTags.PatientName, filter.PatientName);
        Key(DicomTags.StudyDate, DateRange(filter.StudyDateFrom, filter.StudyDateTo));
        Key(DicomTags.AccessionNumber, filter.AccessionNumber);
        Key(DicomTags.ModalitiesInStudy, filter.Modality);
        Key(DicomTags.StudyDescription, null);
        Key(DicomTags.NumberOfStudyRelatedSeries, null);
        Key(DicomTags.NumberOfStudyRelatedInstances, null);

        var studies = new List<RemoteStudy>();
        await foreach (var m in Client(node).FindAsync(QueryRetrieveInformationModel.StudyRoot, QueryRetrieveLevel.Study, id, ct: ct).ConfigureAwait(false))
        {
            string? S(DicomTag t) => m.GetString(t).Trim() is { Length: > 0 } s ? s : null;
            int? N(DicomTag t) => int.TryParse(S(t), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
            if (S(DicomTags.StudyInstanceUID) is not { } uid) continue;
            studies.Add(new RemoteStudy(uid, S(DicomTags.PatientID), S(DicomTags.PatientName), S(DicomTags.StudyDate), S(DicomTags.StudyDescription),
                S(DicomTags.AccessionNumber), string.Join('\\', m.GetStrings(DicomTags.ModalitiesInStudy).Where(x => x.Length > 0)) is { Length: > 0 } mods ? mods : null,
                N(DicomTags.NumberOfStudyRelatedSeries), N(DicomTags.NumberOfStudyRelatedInstances)));
        }
        return studies;
    }

    private static string? DateRange(string? from, string? to)
    {
        from = from?.Trim();
        to = to?.Trim();
        if (string.IsNullOrEmpty(from) && string.IsNullOrEmpty(to)) return null;
        if (from == to) return from;
        return $"{from}-{to}";
    }

    public async Task<RemoteImportResult> ImportStudyAsync(RemoteNodeOptions node, string studyInstanceUid, string project, string? dataset = null,
        CancellationToken ct = default)
    {
        studyInstanceUid = studyInstanceUid.Trim();
        if (studyInstanceUid.Length == 0) throw new RemoteImportException("A Study Instance UID is needed.");
        var p = await catalog.FindProjectAsync(project, ct).ConfigureAwait(false)
            ?? throw new RemoteImportException($"Project '{project}' does not exist.");
        Dataset? d = null;
        if (!string.IsNullOrWhiteSpace(dataset))
            d = await catalog.FindDatasetAsync(p.Id, dataset, ct).ConfigureAwait(false)
                ?? throw new RemoteImportException($"Dataset '{dataset}' does not exist in project '{project}'.");

        var id = new DicomDataset();
        id.Set(DicomTags.StudyInstanceUID, studyInstanceUid);
        DicomRetrieveProgress? last = null;
        await foreach (var progress in Client(node).MoveAsync(QueryRetrieveInformationModel.StudyRoot, QueryRetrieveLevel.Study, id, receiver.AETitle, ct: ct)
                           .ConfigureAwait(false))
            last = progress;
        if (last is null) throw new DicomNetworkException("The C-MOVE ended without a response.");

        // Every C-STORE sub-operation was answered after its ingest committed, so the index holds what arrived.
        List<string> series;
        await using (var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false))
        {
            series = await db.Series.AsNoTracking().Where(s => s.Study.StudyInstanceUID == studyInstanceUid)
                .Select(s => s.SeriesInstanceUID).ToListAsync(ct).ConfigureAwait(false);
        }
        int addedToProject = series.Count == 0 ? 0 : await catalog.AddSeriesToProjectAsync(p.Id, series, ct).ConfigureAwait(false);
        int addedToDataset = series.Count == 0 || d is null ? 0 : await catalog.AddSeriesToDatasetAsync(d.Id, series, ct).ConfigureAwait(false);
        _logger.LogInformation("Import of study {Study} from {Node} into {Project}/{Dataset}: {Progress}; {Series} series, {Added} newly in the project",
            studyInstanceUid, node.AETitle, p.Name, d?.Name, last, series.Count, addedToProject);
        return new RemoteImportResult(studyInstanceUid, last.Status.ToString(), last.Status.IsSuccess || (last.Status.IsSuccessOrWarning && last.Failed == 0),
            last.Completed, last.Failed, last.Warning, last.FailedSopInstanceUids, last.ErrorComment is { Length: > 0 } c ? c : null,
            series, addedToProject, addedToDataset);
    }

    public async Task<RemoteSendResult> SendSeriesAsync(RemoteNodeOptions node, string seriesInstanceUid, CancellationToken ct = default)
    {
        seriesInstanceUid = seriesInstanceUid.Trim();
        List<(string Sop, string SopClass, string Syntax, string Key)> instances;
        await using (var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false))
        {
            instances = (await db.Instances.AsNoTracking().Where(i => i.Series.SeriesInstanceUID == seriesInstanceUid)
                    .OrderBy(i => i.InstanceNumber).ThenBy(i => i.SOPInstanceUID)
                    .Select(i => new { i.SOPInstanceUID, i.SOPClassUID, i.TransferSyntaxUID, i.StoragePath }).ToListAsync(ct).ConfigureAwait(false))
                .Select(i => (i.SOPInstanceUID, i.SOPClassUID, i.TransferSyntaxUID, i.StoragePath)).ToList();
        }
        if (instances.Count == 0) throw new RemoteImportException($"Series {seriesInstanceUid} is not in the archive.");

        var contexts = instances.Select(i => (i.SopClass, i.Syntax)).Distinct().Take(DicomClient.MaxPresentationContexts)
            .Select(k => new DicomPresentationContextRequest(k.SopClass,
                new[] { k.Syntax }.Concat(DicomPresentationContextRequest.UncompressedTransferSyntaxes).Distinct().ToArray()))
            .ToList();
        var results = new List<RemoteSendInstanceResult>();
        var association = await Client(node).ConnectAsync(contexts, ct: ct).ConfigureAwait(false);
        await using (association.ConfigureAwait(false))
        {
            foreach (var i in instances)
            {
                if (!association.IsOpen)
                {
                    results.Add(new RemoteSendInstanceResult(i.Sop, null, false, $"Association ended: {association.EndReason}"));
                    continue;
                }
                try
                {
                    var stream = storage.OpenRead(i.Key);
                    await using (stream.ConfigureAwait(false))
                    {
                        var rsp = await association.StoreAsync(stream, ct: ct).ConfigureAwait(false);
                        results.Add(new RemoteSendInstanceResult(i.Sop, rsp.Status.ToString(), rsp.Status.IsSuccessOrWarning,
                            rsp.Status.IsSuccessOrWarning ? null : rsp.ErrorComment));
                    }
                }
                catch (Exception ex) when (ex is DicomException or IOException or UnauthorizedAccessException)
                {
                    results.Add(new RemoteSendInstanceResult(i.Sop, null, false, ex.Message));
                }
            }
            if (association.IsOpen) await association.ReleaseAsync(ct).ConfigureAwait(false);
        }
        int ok = results.Count(r => r.Succeeded);
        _logger.LogInformation("Sent series {Series} to {Node}: {Ok} succeeded, {Failed} failed", seriesInstanceUid, node.AETitle, ok, results.Count - ok);
        return new RemoteSendResult(seriesInstanceUid, ok, results.Count - ok, results);
    }
}
