using System.Collections.Concurrent;
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
/// The single writer of instance rows: one commit at a time, each of everything queued (up to
/// <see cref="ArchiveOptions.MaxBatchSize"/>) in one transaction, then each request's task is completed. Concurrent ingesters
/// thereby share the cost of a commit (group commit); an ingester is answered only once its row is durable. A batch looks
/// up instances, series, studies and patients by their unique keys (so its cost does not grow with the size of the
/// archive) and updates the counts of each touched row once. It writes through <see cref="IndexRowStore"/> (prepared
/// statements on one long-lived connection), not through EF Core's change tracker: that was most of the CPU per instance.
/// </summary>
public sealed class IndexWriter : BackgroundService
{
    private readonly ConcurrentQueue<IndexWriteRequest> _pending = new();
    private readonly SemaphoreSlim _capacity;
    private readonly IDbContextFactory<KaapanaDbContext> _dbFactory;
    private readonly IArchiveStorage _storage;
    private readonly SeriesStabilityMonitor _stability;
    private readonly ILogger<IndexWriter> _logger;
    private readonly int _maxBatch;
    private long _transactions, _instancesWritten, _batchesRetried;
    private int _committing; // 1 while some thread commits a batch (the single writer of the moment)
    private volatile bool _closed;
    private readonly List<IndexWriteRequest> _batch = [];

    // Project links known to exist, so a batch of more instances of a known series needs no link query. Only the writer
    // reads it; links are never removed while their series exists (series ids are not reused), so an entry cannot go stale.
    private readonly HashSet<(int ProjectId, long SeriesId)> _knownProjectLinks = [];
    private const int MaxKnownProjectLinks = 200_000;

    // The writer's own connection, opened at the first batch and replaced after a failed one.
    private IndexRowStore? _store;

    // Checkpoints run on their own connection on the thread pool, not inside a commit: SQLite's automatic checkpoint would
    // make every ~100th ingester wait for the copy of the log into the database and its two fsyncs (milliseconds, more on
    // a busy disk). Durability is the log's either way; the checkpoint only moves committed pages.
    private const int CheckpointEveryRows = 100; // ~1,000 log pages at ~10 pages per instance: SQLite's own default interval
    private int _rowsSinceCheckpoint;
    private int _checkpointing; // 1 while a checkpoint is queued or running
    private IndexRowStore? _checkpointStore;

    public IndexWriter(IDbContextFactory<KaapanaDbContext> dbFactory, IArchiveStorage storage, SeriesStabilityMonitor stability,
        IOptions<KaapanaOptions> options, ILogger<IndexWriter> logger)
    {
        _dbFactory = dbFactory;
        _storage = storage;
        _stability = stability;
        _logger = logger;
        var archive = options.Value.Archive;
        _maxBatch = Math.Max(1, archive.MaxBatchSize);
        int capacity = Math.Max(1, archive.WriteQueueCapacity);
        _capacity = new SemaphoreSlim(capacity, capacity);
    }

    /// <summary>Committed write transactions so far (tests and benchmarks compare it with <see cref="InstancesWritten"/>).</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    public long InstancesWritten => Interlocked.Read(ref _instancesWritten);

    /// <summary>Batches that failed as a whole and were retried one request at a time.</summary>
    public long BatchesRetried => Interlocked.Read(ref _batchesRetried);

    /// <summary>
    /// Queues a write and waits until it is committed. Throws what the commit threw; <see cref="ChannelClosedException"/>
    /// after shutdown. When no commit is running, the caller's own thread commits everything queued (itself included), so
    /// a lone ingester is answered without a hand-over to another thread and back; writes queued meanwhile are committed
    /// together right after, on a thread-pool thread (group commit).
    /// </summary>
    public async Task<IndexWriteOutcome> WriteAsync(IndexWriteRequest request, CancellationToken ct = default)
    {
        if (_closed) throw new ChannelClosedException();
        await _capacity.WaitAsync(ct).ConfigureAwait(false); // back-pressure: WriteQueueCapacity requests at most
        _pending.Enqueue(request);
        // Not cancellable from here on: the caller must learn whether its row was committed.
        Pump();
        return await request.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Commits one batch if no other thread is committing; hands what was queued meanwhile to the thread pool.</summary>
    private void Pump()
    {
        if (_pending.IsEmpty || Interlocked.CompareExchange(ref _committing, 1, 0) != 0) return;
        try
        {
            _batch.Clear();
            while (_batch.Count < _maxBatch && _pending.TryDequeue(out var request)) _batch.Add(request);
            if (_batch.Count > 0)
            {
                _capacity.Release(_batch.Count);
                Process(_batch);
            }
        }
        finally
        {
            _batch.Clear();
            // A full fence: a writer that queued while this commit ran and found _committing set is seen below.
            Interlocked.Exchange(ref _committing, 0);
        }
        if (!_pending.IsEmpty) ThreadPool.UnsafeQueueUserWorkItem(static w => w.Pump(), this, preferLocal: false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _closed = true; // drain what is queued, then refuse new writes
        while (!_pending.IsEmpty || Volatile.Read(ref _committing) != 0)
        {
            Pump();
            if (!_pending.IsEmpty || Volatile.Read(ref _committing) != 0) await Task.Delay(1, CancellationToken.None).ConfigureAwait(false);
        }
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    // Nothing runs in the background: commits happen on the writers' threads (see WriteAsync).
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;

    // DI disposes it twice (the singleton and its hosted-service registration): only the first call counts.
    public override void Dispose()
    {
        _closed = true;
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        while (Interlocked.CompareExchange(ref _committing, 1, 0) != 0) Thread.Sleep(1); // a commit still running finishes first
        while (Interlocked.CompareExchange(ref _checkpointing, 1, 0) != 0) Thread.Sleep(1); // and a checkpoint
        _store?.Dispose();
        _store = null;
        _checkpointStore?.Dispose();
        _checkpointStore = null;
        base.Dispose();
    }

    private int _disposed;

    /// <summary>Commits a batch; never throws (each request's task carries its outcome or exception).</summary>
    private void Process(List<IndexWriteRequest> batch)
    {
        try
        {
            Commit(batch);
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
                Commit([request]);
            }
            catch (Exception ex)
            {
                request.Completion.TrySetException(ex);
            }
        }
    }

    private IndexRowStore OpenWriterStore()
    {
        var store = IndexRowStore.Open(_dbFactory);
        try
        {
            if (store.Sql.DisableAutoCheckpoint is { } sql) store.Execute(sql);
        }
        catch
        {
            store.Dispose();
            throw;
        }
        return store;
    }

    /// <summary>Queues a checkpoint every <see cref="CheckpointEveryRows"/> committed rows, unless one is still running.</summary>
    private void MaybeCheckpoint(int rows)
    {
        if ((_rowsSinceCheckpoint += rows) < CheckpointEveryRows || _store?.Sql.Checkpoint is null) return;
        if (Interlocked.CompareExchange(ref _checkpointing, 1, 0) != 0) return;
        _rowsSinceCheckpoint = 0;
        ThreadPool.UnsafeQueueUserWorkItem(static w => w.Checkpoint(), this, preferLocal: false);
    }

    private void Checkpoint()
    {
        try
        {
            if (_closed) return;
            var store = _checkpointStore ??= IndexRowStore.Open(_dbFactory);
            store.Execute(store.Sql.Checkpoint!);
        }
        catch (Exception ex)
        {
            // Not fatal: the log keeps the commits, and the next checkpoint (or closing the database) copies them.
            _logger.LogWarning(ex, "Index checkpoint failed");
            _checkpointStore?.Dispose();
            _checkpointStore = null;
        }
        finally
        {
            Volatile.Write(ref _checkpointing, 0);
        }
    }

    private void Commit(IReadOnlyList<IndexWriteRequest> batch)
    {
        var store = _store ??= OpenWriterStore();
        var now = DateTime.UtcNow;
        var outcomes = new IndexWriteOutcome[batch.Count];
        var w = new BatchState(store, _knownProjectLinks, now);
        var oldFiles = new List<string>();
        store.Begin();
        try
        {
            for (int i = 0; i < batch.Count; i++)
            {
                var r = batch[i];
                var existing = w.FindInstance(r.SopInstanceUID);
                if (r.Record is null)
                {
                    // Link request.
                    if (existing is not null && w.SeriesById(existing.SeriesId) is { } linked) w.Link(linked, r.ProjectId, r.DatasetId);
                    outcomes[i] = Existing(IndexWriteStatus.Linked, existing);
                    continue;
                }
                if (existing is not null)
                {
                    if (r.ReplacesInstanceId != existing.Id)
                    {
                        outcomes[i] = Existing(IndexWriteStatus.AlreadyIndexed, existing);
                        continue;
                    }
                    w.RemoveInstance(existing, r.SopInstanceUID);
                    if (existing.StoragePath != r.StoragePath) oldFiles.Add(existing.StoragePath);
                }
                var (seriesId, instanceId) = w.AddInstance(r);
                outcomes[i] = new IndexWriteOutcome(IndexWriteStatus.Inserted, seriesId, instanceId);
            }
            w.WriteCounts();
            // Power-loss mode: the renames of this batch become durable before the rows that point at them (files were synced by their writers).
            _storage.FlushDirectories(batch.Where(r => r.Record is not null && r.StoragePath is not null).Select(r => r.StoragePath!));
            store.Commit();
        }
        catch
        {
            // Start the next batch on a fresh connection: whatever failed may have left this one unusable.
            _store = null;
            store.Dispose();
            throw;
        }

        if (_knownProjectLinks.Count > MaxKnownProjectLinks) _knownProjectLinks.Clear();
        foreach (var link in w.ProjectLinks) _knownProjectLinks.Add(link);
        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _instancesWritten, outcomes.Count(o => o.Status == IndexWriteStatus.Inserted));

        MaybeCheckpoint(batch.Count);
        for (int i = 0; i < batch.Count; i++) batch[i].Completion.TrySetResult(outcomes[i]);
        foreach (var (id, uid) in w.ReceivedSeries) _stability.Touch(id, uid, now);
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

    private static IndexWriteOutcome Existing(IndexWriteStatus status, IndexRowStore.InstanceRow? existing) =>
        new(status, existing?.SeriesId ?? 0, existing?.Id ?? 0, existing?.StoragePath, existing?.ContentHash);

    /// <summary>
    /// The rows one batch touches, looked up by their unique keys (once each per batch), and the changes to the counts of
    /// series, studies and patients, written once per row at the end of the batch.
    /// </summary>
    private sealed class BatchState(IndexRowStore store, IReadOnlySet<(int, long)> knownProjectLinks, DateTime now)
    {
        public sealed class PatientState(long id)
        {
            public long Id { get; } = id;
            public int Studies, Series, Instances;
        }

        public sealed class StudyState(long id, PatientState patient, string? modalities)
        {
            public long Id { get; } = id;
            public PatientState Patient { get; } = patient;
            public string? Modalities = modalities;
            public bool ModalitiesChanged, Received;
            public int Series, Instances;
            public long Size;
        }

        public sealed class SeriesState(long id, string uid, StudyState study)
        {
            public long Id { get; } = id;
            public string Uid { get; } = uid;
            public StudyState Study { get; } = study;
            public bool Received;
            public int Instances;
            public long Size;
        }

        // Instances this batch inserted (row) or deleted (null) override what the database says.
        private readonly Dictionary<string, IndexRowStore.InstanceRow?> _instances = new(StringComparer.Ordinal);
        private readonly Dictionary<string, SeriesState> _seriesByUid = new(StringComparer.Ordinal);
        private readonly Dictionary<long, SeriesState> _seriesById = [];
        private readonly Dictionary<string, StudyState> _studiesByUid = new(StringComparer.Ordinal);
        private readonly Dictionary<long, StudyState> _studiesById = [];
        private readonly Dictionary<string, PatientState> _patientsByKey = new(StringComparer.Ordinal);
        private readonly Dictionary<long, PatientState> _patientsById = [];
        private readonly HashSet<(int, long)> _projectLinks = [];
        private readonly HashSet<(int, long)> _datasetLinks = [];

        /// <summary>Every project link this batch made or found (valid once committed).</summary>
        public IEnumerable<(int, long)> ProjectLinks => _projectLinks;

        /// <summary>Series that received instances in this batch.</summary>
        public IEnumerable<(long Id, string Uid)> ReceivedSeries => _seriesById.Values.Where(s => s.Received).Select(s => (s.Id, s.Uid));

        public IndexRowStore.InstanceRow? FindInstance(string uid) =>
            _instances.TryGetValue(uid, out var row) ? row : store.FindInstance(uid);

        public SeriesState? SeriesById(long id)
        {
            if (_seriesById.TryGetValue(id, out var s)) return s;
            return store.FindSeries(id) is { } row ? AddSeries(row) : null;
        }

        private SeriesState? SeriesByUid(string uid)
        {
            if (_seriesByUid.TryGetValue(uid, out var s)) return s;
            return store.FindSeries(uid) is { } row ? AddSeries(row) : null;
        }

        private SeriesState AddSeries(IndexRowStore.SeriesRow row)
        {
            if (!_studiesById.TryGetValue(row.StudyId, out var study))
                study = AddStudy(row.StudyId, null, row.PatientId, row.ModalitiesInStudy);
            var s = new SeriesState(row.Id, row.SeriesInstanceUID, study);
            _seriesByUid[row.SeriesInstanceUID] = s;
            _seriesById[row.Id] = s;
            return s;
        }

        private StudyState AddStudy(long id, string? uid, long patientId, string? modalities)
        {
            if (!_patientsById.TryGetValue(patientId, out var patient)) _patientsById[patientId] = patient = new PatientState(patientId);
            var study = new StudyState(id, patient, modalities);
            _studiesById[id] = study;
            if (uid is not null) _studiesByUid[uid] = study;
            return study;
        }

        public void RemoveInstance(IndexRowStore.InstanceRow existing, string sopInstanceUid)
        {
            var series = SeriesById(existing.SeriesId)!;
            series.Instances--;
            series.Size -= existing.FileSize;
            series.Study.Instances--;
            series.Study.Size -= existing.FileSize;
            series.Study.Patient.Instances--;
            store.DeleteInstance(existing.Id);
            _instances[sopInstanceUid] = null;
        }

        public (long SeriesId, long InstanceId) AddInstance(IndexWriteRequest r)
        {
            var rec = r.Record!;
            var series = SeriesByUid(rec.SeriesInstanceUID);
            if (series is null)
            {
                // A study stays with the patient it was first filed under, whatever later instances say.
                var study = StudyByUid(rec.StudyInstanceUID);
                if (study is null)
                {
                    var patient = PatientByKey(rec.PatientID) ?? NewPatient(rec);
                    study = AddStudy(store.InsertStudy(patient.Id, rec, now), rec.StudyInstanceUID, patient.Id, null);
                    patient.Studies++;
                }
                long seriesId = store.InsertSeries(study.Id, rec, now);
                if (r.Header is not null)
                    foreach (var (tag, value) in IndexAttributes.SeriesAttributes(r.Header))
                        store.InsertSeriesAttribute(seriesId, IndexAttributes.TagKey(tag), value);
                series = new SeriesState(seriesId, rec.SeriesInstanceUID, study);
                _seriesByUid[rec.SeriesInstanceUID] = series;
                _seriesById[seriesId] = series;
                study.Series++;
                study.Patient.Series++;
                if (rec.Modality is { } modality)
                {
                    var modalities = (study.Modalities ?? "").Split('\\', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                    if (modalities.Add(modality))
                    {
                        study.Modalities = string.Join('\\', modalities.Order(StringComparer.Ordinal));
                        study.ModalitiesChanged = true;
                    }
                }
            }

            long instanceId = store.InsertInstance(series.Id, r, now);
            _instances[rec.SOPInstanceUID] = new IndexRowStore.InstanceRow(instanceId, series.Id, r.StoragePath!, r.ContentHash!, r.FileSize);
            series.Instances++;
            series.Size += r.FileSize;
            series.Received = true;
            series.Study.Instances++;
            series.Study.Size += r.FileSize;
            series.Study.Received = true;
            series.Study.Patient.Instances++;
            Link(series, r.ProjectId, r.DatasetId);
            return (series.Id, instanceId);
        }

        private StudyState? StudyByUid(string uid)
        {
            if (_studiesByUid.TryGetValue(uid, out var s)) return s;
            if (store.FindStudy(uid) is not { } row) return null;
            if (_studiesById.TryGetValue(row.Id, out s))
            {
                _studiesByUid[uid] = s;
                return s;
            }
            return AddStudy(row.Id, uid, row.PatientId, row.ModalitiesInStudy);
        }

        private PatientState? PatientByKey(string patientId)
        {
            if (_patientsByKey.TryGetValue(patientId, out var p)) return p;
            if (store.FindPatient(patientId) is not { } id) return null;
            if (!_patientsById.TryGetValue(id, out p)) _patientsById[id] = p = new PatientState(id);
            _patientsByKey[patientId] = p;
            return p;
        }

        private PatientState NewPatient(InstanceRecord rec)
        {
            var p = new PatientState(store.InsertPatient(rec, now));
            _patientsById[p.Id] = p;
            _patientsByKey[rec.PatientID] = p;
            return p;
        }

        public void Link(SeriesState series, int? projectId, int? datasetId)
        {
            if (projectId is { } p && !knownProjectLinks.Contains((p, series.Id)) && _projectLinks.Add((p, series.Id)))
                store.LinkProject(p, series.Id, now);
            if (datasetId is { } d && _datasetLinks.Add((d, series.Id)))
                store.LinkDataset(d, series.Id, now);
        }

        /// <summary>Writes the batch's changes to counts, sizes, arrival times and modalities: one update per touched row.</summary>
        public void WriteCounts()
        {
            foreach (var s in _seriesById.Values)
                if (s.Instances != 0 || s.Size != 0 || s.Received)
                    store.AddSeriesCounts(s.Id, s.Instances, s.Size, s.Received ? now : null);
            foreach (var st in _studiesById.Values)
            {
                if (st.Series != 0 || st.Instances != 0 || st.Size != 0 || st.Received)
                    store.AddStudyCounts(st.Id, st.Series, st.Instances, st.Size, st.Received ? now : null);
                if (st.ModalitiesChanged) store.SetModalities(st.Id, st.Modalities!);
            }
            foreach (var p in _patientsById.Values)
                if (p.Studies != 0 || p.Series != 0 || p.Instances != 0)
                    store.AddPatientCounts(p.Id, p.Studies, p.Series, p.Instances);
        }
    }
}
