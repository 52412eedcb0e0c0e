using System.Data.Common;
using Kaapana.Core.Archive.Index;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Core.Archive.Ingest;

/// <summary>
/// The index writer's connection: one long-lived connection (opened through EF Core, so the provider's connection setup
/// and <see cref="SqliteDurabilityInterceptor"/> apply) with one command per statement of <see cref="IndexRowSql"/>, each
/// compiled once and reused. Per instance that replaces EF Core's change tracking, SQL generation and statement parsing
/// by a few bound executions. Not thread-safe: only the writer uses it.
/// </summary>
internal sealed class IndexRowStore : IDisposable
{
    private readonly KaapanaDbContext _db;
    private readonly DbConnection _connection;
    private readonly List<DbCommand> _commands = [];
    private DbTransaction? _tx;

    private readonly DbCommand _findInstance, _findSeriesByUid, _findSeriesById, _findStudy, _findPatient, _insertPatient, _insertStudy,
        _insertSeries, _insertAttribute, _insertInstance, _deleteInstance, _addPatientCounts, _addStudyCounts, _addStudyCountsReceived,
        _addSeriesCounts, _addSeriesCountsReceived, _setModalities, _linkProject, _linkDataset;

    private IndexRowStore(KaapanaDbContext db, IndexRowSql sql)
    {
        Sql = sql;
        _db = db;
        _connection = db.Database.GetDbConnection();
        _findInstance = Command(sql.FindInstance, "@uid");
        _findSeriesByUid = Command(sql.FindSeriesByUid, "@uid");
        _findSeriesById = Command(sql.FindSeriesById, "@id");
        _findStudy = Command(sql.FindStudy, "@uid");
        _findPatient = Command(sql.FindPatient, "@pid");
        _insertPatient = Command(sql.InsertPatient, "@pid", "@issuer", "@name", "@nameSearch", "@birthDate", "@sex", "@now");
        _insertStudy = Command(sql.InsertStudy, "@patientId", "@uid", "@date", "@time", "@accession", "@studyId", "@description", "@referring", "@now");
        _insertSeries = Command(sql.InsertSeries, "@studyId", "@uid", "@modality", "@number", "@description", "@bodyPart", "@manufacturer", "@model",
            "@date", "@time", "@now", "@false");
        _insertAttribute = Command(sql.InsertSeriesAttribute, "@seriesId", "@tag", "@value");
        _insertInstance = Command(sql.InsertInstance, "@seriesId", "@uid", "@class", "@number", "@syntax", "@frames", "@rows", "@columns", "@path",
            "@size", "@hash", "@receivedAt", "@source", "@calling", "@called", "@peer", "@user");
        _deleteInstance = Command(sql.DeleteInstance, "@id");
        _addPatientCounts = Command(sql.AddPatientCounts, "@studies", "@series", "@instances", "@id");
        _addStudyCounts = Command(sql.AddStudyCounts, "@series", "@instances", "@size", "@id");
        _addStudyCountsReceived = Command(sql.AddStudyCountsReceived, "@series", "@instances", "@size", "@now", "@id");
        _addSeriesCounts = Command(sql.AddSeriesCounts, "@instances", "@size", "@id");
        _addSeriesCountsReceived = Command(sql.AddSeriesCountsReceived, "@instances", "@size", "@now", "@id", "@false");
        _setModalities = Command(sql.SetModalities, "@modalities", "@id");
        _linkProject = Command(sql.LinkProject, "@projectId", "@seriesId", "@now");
        _linkDataset = Command(sql.LinkDataset, "@datasetId", "@seriesId", "@now");
    }

    public IndexRowSql Sql { get; }

    /// <summary>Runs one statement without parameters outside any transaction (pragmas, checkpoints).</summary>
    public void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader(); // a pragma may answer with a row; read and drop it
        while (reader.Read()) { }
    }

    /// <summary>Opens the connection; throws <see cref="NotSupportedException"/> for a provider without an <see cref="IndexRowSql"/>.</summary>
    public static IndexRowStore Open(IDbContextFactory<KaapanaDbContext> factory)
    {
        var db = factory.CreateDbContext();
        try
        {
            var sql = db.Database.ProviderName switch
            {
                "Microsoft.EntityFrameworkCore.Sqlite" => IndexRowSql.Sqlite,
                var other => throw new NotSupportedException($"The index writer has no statements for the database provider {other}; add an IndexRowSql for it."),
            };
            db.Database.OpenConnection();
            return new IndexRowStore(db, sql);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>A command with its parameters in binding order; "@false" (a boolean bound once, never as a literal) goes last.</summary>
    private DbCommand Command(string text, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = text;
        foreach (var name in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = name == "@false" ? false : DBNull.Value;
            command.Parameters.Add(p);
        }
        _commands.Add(command);
        return command;
    }

    public void Begin()
    {
        _tx = _connection.BeginTransaction();
        foreach (var c in _commands) c.Transaction = _tx;
    }

    public void Commit()
    {
        _tx!.Commit();
        EndTransaction();
    }

    public void Rollback()
    {
        if (_tx is null) return;
        try
        {
            _tx.Rollback();
        }
        finally
        {
            EndTransaction();
        }
    }

    private void EndTransaction()
    {
        _tx!.Dispose();
        _tx = null;
        foreach (var c in _commands) c.Transaction = null;
    }

    public sealed record InstanceRow(long Id, long SeriesId, string StoragePath, string ContentHash, long FileSize);

    public sealed record SeriesRow(long Id, string SeriesInstanceUID, long StudyId, long PatientId, string? ModalitiesInStudy);

    public InstanceRow? FindInstance(string sopInstanceUid)
    {
        Set(_findInstance, 0, sopInstanceUid);
        using var r = _findInstance.ExecuteReader();
        return r.Read() ? new InstanceRow(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetInt64(4)) : null;
    }

    public SeriesRow? FindSeries(string seriesInstanceUid)
    {
        Set(_findSeriesByUid, 0, seriesInstanceUid);
        return ReadSeries(_findSeriesByUid);
    }

    public SeriesRow? FindSeries(long id)
    {
        Set(_findSeriesById, 0, id);
        return ReadSeries(_findSeriesById);
    }

    private static SeriesRow? ReadSeries(DbCommand command)
    {
        using var r = command.ExecuteReader();
        return r.Read() ? new SeriesRow(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.IsDBNull(4) ? null : r.GetString(4)) : null;
    }

    public (long Id, long PatientId, string? ModalitiesInStudy)? FindStudy(string studyInstanceUid)
    {
        Set(_findStudy, 0, studyInstanceUid);
        using var r = _findStudy.ExecuteReader();
        return r.Read() ? (r.GetInt64(0), r.GetInt64(1), r.IsDBNull(2) ? null : r.GetString(2)) : null;
    }

    public long? FindPatient(string patientId)
    {
        Set(_findPatient, 0, patientId);
        using var r = _findPatient.ExecuteReader();
        return r.Read() ? r.GetInt64(0) : null;
    }

    public long InsertPatient(InstanceRecord rec, DateTime now) =>
        Insert(_insertPatient, rec.PatientID, rec.IssuerOfPatientID, rec.PatientName, IndexAttributes.NormalizeName(rec.PatientName),
            rec.PatientBirthDate, rec.PatientSex, now);

    public long InsertStudy(long patientId, InstanceRecord rec, DateTime now) =>
        Insert(_insertStudy, patientId, rec.StudyInstanceUID, rec.StudyDate, rec.StudyTime, rec.AccessionNumber, rec.StudyID, rec.StudyDescription,
            rec.ReferringPhysicianName, now);

    public long InsertSeries(long studyId, InstanceRecord rec, DateTime now) =>
        Insert(_insertSeries, studyId, rec.SeriesInstanceUID, rec.Modality, rec.SeriesNumber, rec.SeriesDescription, rec.BodyPartExamined,
            rec.Manufacturer, rec.ManufacturerModelName, rec.SeriesDate, rec.SeriesTime, now);

    public void InsertSeriesAttribute(long seriesId, int tag, string value) => Execute(_insertAttribute, seriesId, tag, value);

    public long InsertInstance(long seriesId, IndexWriteRequest r, DateTime now)
    {
        var rec = r.Record!;
        var ctx = r.Context;
        return Insert(_insertInstance, seriesId, rec.SOPInstanceUID, rec.SOPClassUID, rec.InstanceNumber, rec.TransferSyntaxUID, rec.NumberOfFrames,
            rec.Rows, rec.Columns, r.StoragePath, r.FileSize, r.ContentHash, r.ReceivedAt ?? now, (int)ctx.Source, Clip(ctx.CallingAE, 16),
            Clip(ctx.CalledAE, 16), Clip(ctx.PeerAddress, 100), Clip(ctx.UploadUser, 200));
    }

    public void DeleteInstance(long id) => Execute(_deleteInstance, id);

    public void AddPatientCounts(long id, int studies, int series, int instances) => Execute(_addPatientCounts, studies, series, instances, id);

    public void AddStudyCounts(long id, int series, int instances, long size, DateTime? receivedAt)
    {
        if (receivedAt is { } at) Execute(_addStudyCountsReceived, series, instances, size, at, id);
        else Execute(_addStudyCounts, series, instances, size, id);
    }

    /// <summary>Adds to a series' counts; with <paramref name="receivedAt"/> also its last arrival, which reopens it if it was complete.</summary>
    public void AddSeriesCounts(long id, int instances, long size, DateTime? receivedAt)
    {
        if (receivedAt is { } at) Execute(_addSeriesCountsReceived, instances, size, at, id);
        else Execute(_addSeriesCounts, instances, size, id);
    }

    public void SetModalities(long studyId, string modalities) => Execute(_setModalities, modalities, studyId);

    public void LinkProject(int projectId, long seriesId, DateTime now) => Execute(_linkProject, projectId, seriesId, now);

    public void LinkDataset(int datasetId, long seriesId, DateTime now) => Execute(_linkDataset, datasetId, seriesId, now);

    private static void Set(DbCommand command, int index, object? value) => command.Parameters[index].Value = value ?? DBNull.Value;

    /// <summary>Binds values to the first parameters in order (a preset "@false" always comes last and is left alone).</summary>
    private static void Bind(DbCommand command, object?[] values)
    {
        for (int i = 0; i < values.Length; i++) Set(command, i, values[i]);
    }

    private static void Execute(DbCommand command, params object?[] values)
    {
        Bind(command, values);
        command.ExecuteNonQuery();
    }

    private static long Insert(DbCommand command, params object?[] values)
    {
        Bind(command, values);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string? Clip(string? s, int max) => s is null ? null : s.Length > max ? s[..max] : s;

    public void Dispose()
    {
        try
        {
            Rollback();
        }
        catch (DbException)
        {
            // the connection is going away anyway
        }
        foreach (var c in _commands) c.Dispose();
        _db.Database.CloseConnection();
        _db.Dispose();
    }
}
