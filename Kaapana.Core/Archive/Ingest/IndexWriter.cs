using System.Threading.Channels;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Storage;
using Kaapana.Dicom;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Ingest;

/// <summary>One index write: a new instance (possibly replacing an older one), or only a project/dataset link for a stored one.</summary>
public sealed class IndexWriteRequest
{
    private IndexWriteRequest(string sopInstanceUid) => SopInstanceUID = sopInstanceUid;

    public string SopInstanceUID { get; }
    public InstanceRecord? Record { get; private init; }

    /// <summary>Header of the instance; its attributes become the series' <see cref="SeriesAttribute"/>s when it opens a new series.</summary>
    public DicomDataset? Header { get; private init; }

    public string? StoragePath { get; private init; }
    public long FileSize { get; private init; }
    public string? ContentHash { get; private init; }
    public DateTime? ReceivedAt { get; private init; }
    public IngestContext Context { get; private init; } = IngestContext.Default;
    public int? ProjectId { get; private init; }
    public int? DatasetId { get; private init; }

    /// <summary>Id of the row this instance replaces (duplicate policy Replace).</summary>
    public long? ReplacesInstanceId { get; private init; }

    internal TaskCompletionSource<IndexWriteOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static IndexWriteRequest NewInstance(InstanceRecord record, DicomDataset header, string storagePath, long fileSize, string contentHash,
        IngestContext context, int? projectId, int? datasetId, long? replacesInstanceId = null, DateTime? receivedAt = null) =>
        new(record.SOPInstanceUID)
        {
            Record = record, Header = header, StoragePath = storagePath, FileSize = fileSize, ContentHash = contentHash, Context = context,
            ProjectId = projectId, DatasetId = datasetId, ReplacesInstanceId = replacesInstanceId, ReceivedAt = receivedAt,
        };

    /// <summary>Adds the series of the stored instance <paramref name="sopInstanceUid"/> to a project and dataset (a duplicate arriving through another door).</summary>
    public static IndexWriteRequest Link(string sopInstanceUid, int? projectId, int? datasetId) =>
        new(sopInstanceUid) { ProjectId = projectId, DatasetId = datasetId };
}

public enum IndexWriteStatus
{
    Inserted,

    /// <summary>A row with this SOP Instance UID exists (and the request did not replace it): nothing written.</summary>
    AlreadyIndexed,

    /// <summary>A link request was applied (or there was nothing to link).</summary>
    Linked,
}

public sealed record IndexWriteOutcome(IndexWriteStatus Status, long SeriesId, long InstanceId, string? ExistingStoragePath = null, string? ExistingContentHash = null);

/// <summary>
/// The single writer of instance rows: one background consumer of a bounded channel that commits everything queued (up to
/// <see cref="ArchiveOptions.MaxBatchSize"/>) in one transaction, then completes each request's task. Concurrent ingesters
/// thereby share the cost of a commit (group commit); an ingester is answered only once its row is durable. A batch looks
/// up patients, studies, series and instances by their unique keys with one query per kind, so its cost does not grow
/// with the size of the archive.
/// </summary>
public sealed class IndexWriter : BackgroundService
{
    private readonly Channel<IndexWriteRequest> _queue;
    private readonly IDbContextFactory<KaapanaDbContext> _dbFactory;
    private readonly IArchiveStorage _storage;
    private readonly SeriesStabilityMonitor _stability;
    private readonly ILogger<IndexWriter> _logger;
    private readonly int _maxBatch;
    private long _transactions, _instancesWritten, _batchesRetried;

    // Project links known to exist, so a batch of more instances of a known series needs no link query. Only the writer
    // reads it; links are never removed while their series exists (series ids are not reused), so an entry cannot go stale.
    private readonly HashSet<(int ProjectId, long SeriesId)> _knownProjectLinks = [];
    private const int MaxKnownProjectLinks = 200_000;

    public IndexWriter(IDbContextFactory<KaapanaDbContext> dbFactory, IArchiveStorage storage, SeriesStabilityMonitor stability,
        IOptions<KaapanaOptions> options, ILogger<IndexWriter> logger)
    {
        _dbFactory = dbFactory;
        _storage = storage;
        _stability = stability;
        _logger = logger;
        var archive = options.Value.Archive;
        _maxBatch = Math.Max(1, archive.MaxBatchSize);
        _queue = Channel.CreateBounded<IndexWriteRequest>(new BoundedChannelOptions(Math.Max(1, archive.WriteQueueCapacity))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Committed write transactions so far (tests and benchmarks compare it with <see cref="InstancesWritten"/>).</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    public long InstancesWritten => Interlocked.Read(ref _instancesWritten);

    /// <summary>Batches that failed as a whole and were retried one request at a time.</summary>
    public long BatchesRetried => Interlocked.Read(ref _batchesRetried);

    /// <summary>Queues a write and waits until it is committed. Throws what the commit threw; <see cref="ChannelClosedException"/> after shutdown.</summary>
    public async Task<IndexWriteOutcome> WriteAsync(IndexWriteRequest request, CancellationToken ct = default)
    {
        await _queue.Writer.WriteAsync(request, ct).ConfigureAwait(false);
        // Not cancellable from here on: the caller must learn whether its row was committed.
        return await request.Completion.Task.ConfigureAwait(false);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete(); // drain what is queued, then end
        return base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _queue.Reader;
        var batch = new List<IndexWriteRequest>(_maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && reader.TryRead(out var request)) batch.Add(request);
            if (batch.Count == 0) continue;
            await ProcessAsync(batch).ConfigureAwait(false);
        }
    }

    private async Task ProcessAsync(List<IndexWriteRequest> batch)
    {
        try
        {
            await CommitAsync(batch).ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            // One bad request must not fail the others: retry them one by one.
            Interlocked.Increment(ref _batchesRetried);
            _logger.LogWarning(ex, "Index batch of {Count} failed; retrying one by one", batch.Count);
        }
        catch (Exception ex)
        {
            batch[0].Completion.TrySetException(ex);
            return;
        }
        foreach (var request in batch)
        {
            try
            {
                await CommitAsync([request]).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                request.Completion.TrySetException(ex);
            }
        }
    }

    private async Task CommitAsync(IReadOnlyList<IndexWriteRequest> batch)
    {
        var now = DateTime.UtcNow;
        await using var db = await _dbFactory.CreateDbContextAsync().ConfigureAwait(false);
        await using var tx = await db.Database.BeginTransactionAsync().ConfigureAwait(false);
        var w = new BatchState(db, _knownProjectLinks);
        await w.LoadAsync(batch).ConfigureAwait(false);

        var outcomes = new (IndexWriteStatus Status, Series? Series, Instance? Instance, Instance? Existing)[batch.Count];
        var oldFiles = new List<string>();
        for (int i = 0; i < batch.Count; i++)
        {
            var r = batch[i];
            w.Instances.TryGetValue(r.SopInstanceUID, out var existing);
            if (r.Record is null)
            {
                // Link request.
                if (existing is not null && w.SeriesById.TryGetValue(existing.SeriesId, out var linked))
                    w.Link(linked, r.ProjectId, r.DatasetId, now);
                outcomes[i] = (IndexWriteStatus.Linked, null, null, existing);
                continue;
            }
            if (existing is not null)
            {
                if (r.ReplacesInstanceId != existing.Id)
                {
                    outcomes[i] = (IndexWriteStatus.AlreadyIndexed, null, null, existing);
                    continue;
                }
                w.RemoveInstance(existing);
                if (existing.StoragePath != r.StoragePath) oldFiles.Add(existing.StoragePath);
            }
            var (series, instance) = w.AddInstance(r, now);
            outcomes[i] = (IndexWriteStatus.Inserted, series, instance, null);
        }

        await db.SaveChangesAsync().ConfigureAwait(false);
        // Power-loss mode: the renames of this batch become durable before the rows that point at them (files were synced by their writers).
        _storage.FlushDirectories(batch.Where(r => r.Record is not null && r.StoragePath is not null).Select(r => r.StoragePath!));
        await tx.CommitAsync().ConfigureAwait(false);

        if (_knownProjectLinks.Count > MaxKnownProjectLinks) _knownProjectLinks.Clear();
        foreach (var link in w.ProjectLinksAfterCommit()) _knownProjectLinks.Add(link);
        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _instancesWritten, outcomes.Count(o => o.Status == IndexWriteStatus.Inserted));

        for (int i = 0; i < batch.Count; i++)
        {
            var (status, series, instance, existing) = outcomes[i];
            batch[i].Completion.TrySetResult(status switch
            {
                IndexWriteStatus.Inserted => new IndexWriteOutcome(status, series!.Id, instance!.Id),
                _ => new IndexWriteOutcome(status, existing?.SeriesId ?? 0, existing?.Id ?? 0, existing?.StoragePath, existing?.ContentHash),
            });
        }
        foreach (var series in outcomes.Where(o => o.Status == IndexWriteStatus.Inserted).Select(o => o.Series!).Distinct())
            _stability.Touch(series.Id, series.SeriesInstanceUID, series.LastReceivedAt);
        foreach (var key in oldFiles)
        {
            try
            {
                _storage.Delete(key);
            }
            catch (IOException ex)
            {
                _logger.LogWarning(ex, "Could not remove the replaced file {Key}; the consistency check will report it", key);
            }
        }
    }

    /// <summary>The rows one batch touches, loaded with one query per kind and key.</summary>
    private sealed class BatchState(KaapanaDbContext db, IReadOnlySet<(int, long)> knownProjectLinks)
    {
        public Dictionary<string, Instance> Instances { get; private set; } = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Series> _seriesByUid = new(StringComparer.Ordinal);
        public Dictionary<long, Series> SeriesById { get; } = [];
        private readonly Dictionary<string, Study> _studiesByUid = new(StringComparer.Ordinal);
        private readonly Dictionary<long, Study> _studiesById = [];
        private readonly Dictionary<string, Patient> _patientsByKey = new(StringComparer.Ordinal);
        private readonly Dictionary<long, Patient> _patientsById = [];
        private readonly HashSet<(int, long)> _projectLinks = [];
        private readonly HashSet<(int, long)> _datasetLinks = [];
        private readonly HashSet<(int, Series)> _newProjectLinks = [];
        private readonly HashSet<(int, Series)> _newDatasetLinks = [];

        public async Task LoadAsync(IReadOnlyList<IndexWriteRequest> batch)
        {
            var sopUids = batch.Select(r => r.SopInstanceUID).Distinct().ToList();
            Instances = await db.Instances.Where(i => sopUids.Contains(i.SOPInstanceUID))
                .ToDictionaryAsync(i => i.SOPInstanceUID, StringComparer.Ordinal).ConfigureAwait(false);

            var records = batch.Where(r => r.Record is not null).Select(r => r.Record!).ToList();
            // The common case (more instances of a known series) needs one query: series with study and patient.
            var seriesUids = records.Select(r => r.SeriesInstanceUID).Distinct().ToList();
            foreach (var s in await db.Series.Include(s => s.Study).ThenInclude(st => st.Patient)
                         .Where(s => seriesUids.Contains(s.SeriesInstanceUID)).ToListAsync().ConfigureAwait(false)) AddSeries(s);
            var seriesIds = Instances.Values.Select(i => i.SeriesId).Where(id => !SeriesById.ContainsKey(id)).Distinct().ToList();
            if (seriesIds.Count > 0)
                foreach (var s in await db.Series.Include(s => s.Study).ThenInclude(st => st.Patient)
                             .Where(s => seriesIds.Contains(s.Id)).ToListAsync().ConfigureAwait(false)) AddSeries(s);

            var studyUids = records.Where(r => !_seriesByUid.ContainsKey(r.SeriesInstanceUID) && !_studiesByUid.ContainsKey(r.StudyInstanceUID))
                .Select(r => r.StudyInstanceUID).Distinct().ToList();
            if (studyUids.Count > 0)
                foreach (var s in await db.Studies.Include(st => st.Patient).Where(s => studyUids.Contains(s.StudyInstanceUID)).ToListAsync().ConfigureAwait(false)) AddStudy(s);

            var patientKeys = records.Where(r => !_seriesByUid.ContainsKey(r.SeriesInstanceUID) && !_studiesByUid.ContainsKey(r.StudyInstanceUID)
                    && !_patientsByKey.ContainsKey(r.PatientID))
                .Select(r => r.PatientID).Distinct().ToList();
            if (patientKeys.Count > 0)
                foreach (var p in await db.Patients.Where(p => patientKeys.Contains(p.PatientID)).ToListAsync().ConfigureAwait(false)) AddPatient(p);

            var linkedSeries = SeriesById.Keys.ToList();
            var projects = batch.Where(r => r.ProjectId is not null).Select(r => r.ProjectId!.Value).Distinct().ToList();
            foreach (var link in projects.SelectMany(p => linkedSeries.Select(id => (p, id))).Where(knownProjectLinks.Contains)) _projectLinks.Add(link);
            var unknown = linkedSeries.Where(id => projects.Any(p => !_projectLinks.Contains((p, id)))).ToList();
            if (unknown.Count > 0)
                foreach (var l in await db.ProjectSeries.Where(l => unknown.Contains(l.SeriesId)).Select(l => new { l.ProjectId, l.SeriesId }).ToListAsync().ConfigureAwait(false))
                    _projectLinks.Add((l.ProjectId, l.SeriesId));
            if (linkedSeries.Count > 0 && batch.Any(r => r.DatasetId is not null))
                foreach (var l in await db.DatasetSeries.Where(l => linkedSeries.Contains(l.SeriesId)).Select(l => new { l.DatasetId, l.SeriesId }).ToListAsync().ConfigureAwait(false))
                    _datasetLinks.Add((l.DatasetId, l.SeriesId));
        }

        private void AddSeries(Series s)
        {
            _seriesByUid[s.SeriesInstanceUID] = s;
            SeriesById[s.Id] = s;
            AddStudy(s.Study);
        }

        private void AddStudy(Study s)
        {
            _studiesByUid[s.StudyInstanceUID] = s;
            _studiesById[s.Id] = s;
            AddPatient(s.Patient);
        }

        private void AddPatient(Patient p)
        {
            _patientsByKey[p.PatientID] = p;
            _patientsById[p.Id] = p;
        }

        /// <summary>Every project link this batch saw or made, with the ids of new series (valid once saved).</summary>
        public IEnumerable<(int, long)> ProjectLinksAfterCommit() =>
            _projectLinks.Concat(_newProjectLinks.Select(l => (l.Item1, l.Item2.Id)));

        public void RemoveInstance(Instance existing)
        {
            var series = SeriesById[existing.SeriesId];
            var study = series.Study ?? _studiesById[series.StudyId];
            var patient = study.Patient ?? _patientsById[study.PatientId];
            series.NumberOfInstances--;
            series.TotalSize -= existing.FileSize;
            study.NumberOfInstances--;
            study.TotalSize -= existing.FileSize;
            patient.NumberOfInstances--;
            db.Instances.Remove(existing);
            Instances.Remove(existing.SOPInstanceUID);
        }

        public (Series, Instance) AddInstance(IndexWriteRequest r, DateTime now)
        {
            var rec = r.Record!;
            Patient patient;
            if (!_studiesByUid.TryGetValue(rec.StudyInstanceUID, out var study))
            {
                if (!_patientsByKey.TryGetValue(rec.PatientID, out patient!))
                {
                    patient = new Patient
                    {
                        PatientID = rec.PatientID, IssuerOfPatientID = rec.IssuerOfPatientID, PatientName = rec.PatientName,
                        PatientNameSearch = IndexAttributes.NormalizeName(rec.PatientName), PatientBirthDate = rec.PatientBirthDate,
                        PatientSex = rec.PatientSex, CreatedAt = now,
                    };
                    db.Patients.Add(patient);
                    _patientsByKey[rec.PatientID] = patient;
                }
                study = new Study
                {
                    Patient = patient, StudyInstanceUID = rec.StudyInstanceUID, StudyDate = rec.StudyDate, StudyTime = rec.StudyTime,
                    AccessionNumber = rec.AccessionNumber, StudyID = rec.StudyID, StudyDescription = rec.StudyDescription,
                    ReferringPhysicianName = rec.ReferringPhysicianName, CreatedAt = now,
                };
                db.Studies.Add(study);
                _studiesByUid[rec.StudyInstanceUID] = study;
                patient.NumberOfStudies++;
            }
            else
            {
                // A study stays with the patient it was first filed under, whatever later instances say.
                patient = study.Patient ?? _patientsById[study.PatientId];
            }
            if (!_seriesByUid.TryGetValue(rec.SeriesInstanceUID, out var series))
            {
                series = new Series
                {
                    Study = study, SeriesInstanceUID = rec.SeriesInstanceUID, Modality = rec.Modality, SeriesNumber = rec.SeriesNumber,
                    SeriesDescription = rec.SeriesDescription, BodyPartExamined = rec.BodyPartExamined, Manufacturer = rec.Manufacturer,
                    ManufacturerModelName = rec.ManufacturerModelName, SeriesDate = rec.SeriesDate, SeriesTime = rec.SeriesTime, CreatedAt = now,
                };
                if (r.Header is not null)
                    foreach (var (tag, value) in IndexAttributes.SeriesAttributes(r.Header))
                        series.Attributes.Add(new SeriesAttribute { Tag = IndexAttributes.TagKey(tag), Value = value });
                db.Series.Add(series);
                _seriesByUid[rec.SeriesInstanceUID] = series;
                study.NumberOfSeries++;
                patient.NumberOfSeries++;
                if (rec.Modality is { } modality)
                {
                    var modalities = (study.ModalitiesInStudy ?? "").Split('\\', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                    if (modalities.Add(modality)) study.ModalitiesInStudy = string.Join('\\', modalities.Order(StringComparer.Ordinal));
                }
            }
            else
            {
                study = series.Study ?? _studiesById[series.StudyId];
                patient = study.Patient ?? _patientsById[study.PatientId];
            }

            var ctx = r.Context;
            var instance = new Instance
            {
                Series = series, SOPInstanceUID = rec.SOPInstanceUID, SOPClassUID = rec.SOPClassUID, InstanceNumber = rec.InstanceNumber,
                TransferSyntaxUID = rec.TransferSyntaxUID, NumberOfFrames = rec.NumberOfFrames, Rows = rec.Rows, Columns = rec.Columns,
                StoragePath = r.StoragePath!, FileSize = r.FileSize, ContentHash = r.ContentHash!, ReceivedAt = r.ReceivedAt ?? now,
                Source = ctx.Source, CallingAE = Clip(ctx.CallingAE, 16), CalledAE = Clip(ctx.CalledAE, 16), PeerAddress = Clip(ctx.PeerAddress, 100),
                UploadUser = Clip(ctx.UploadUser, 200),
            };
            db.Instances.Add(instance);
            Instances[rec.SOPInstanceUID] = instance;
            series.NumberOfInstances++;
            series.TotalSize += r.FileSize;
            series.LastReceivedAt = now;
            series.IsComplete = false; // a late instance reopens a complete series
            series.CompletedAt = null;
            study.NumberOfInstances++;
            study.TotalSize += r.FileSize;
            study.LastReceivedAt = now;
            patient.NumberOfInstances++;
            Link(series, r.ProjectId, r.DatasetId, now);
            return (series, instance);
        }

        public void Link(Series series, int? projectId, int? datasetId, DateTime now)
        {
            // Links made in this batch are keyed by the entity itself: a new series has no id yet.
            if (projectId is { } p && !_projectLinks.Contains((p, series.Id)) && _newProjectLinks.Add((p, series)))
                db.ProjectSeries.Add(new ProjectSeries { ProjectId = p, Series = series, AddedAt = now });
            if (datasetId is { } d && !_datasetLinks.Contains((d, series.Id)) && _newDatasetLinks.Add((d, series)))
                db.DatasetSeries.Add(new DatasetSeries { DatasetId = d, Series = series, AddedAt = now });
        }

        private static string? Clip(string? s, int max) => s is null ? null : s.Length > max ? s[..max] : s;
    }
}
