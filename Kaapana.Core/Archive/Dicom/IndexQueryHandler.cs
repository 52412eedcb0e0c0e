using System.Globalization;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Storage;
using Kaapana.Dicom;
using Kaapana.Dicom.Network.Query;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Dicom;

/// <summary>
/// C-FIND, C-MOVE and C-GET SCP over the archive index (Patient Root and Study Root, every level). Each key with an index
/// column becomes a SQL predicate where that can be done exactly or as a superset (UIDs and single values: equality or IN;
/// wildcards: LIKE via <see cref="WildcardTerm.ToSqlLike"/>; date ranges: ordinal comparison of the normalised bounds;
/// empty value: null or ""); then every candidate is checked with <see cref="DicomQuery.Matches(DicomDataset)"/>, so PN
/// normalisation, time and combined date-time ranges and multi-valued attributes follow the DICOM rules exactly. Keys
/// without a column are return-only (<see cref="SupportedKeys"/>, set as <see cref="QueryMatchOptions.IsKeySupported"/>:
/// the SCU gets FF01).
/// </summary>
public sealed class IndexQueryHandler(
    IDbContextFactory<KaapanaDbContext> dbFactory,
    IArchiveStorage storage,
    IOptions<DicomReceiverOptions> options,
    ILogger<IndexQueryHandler> logger) : IFindHandler, IMoveHandler, IGetHandler
{
    // ------------------------------------------------------------------ columns

    private sealed record Column(DicomTag Tag, LambdaExpression Selector, bool Sql = true);

    private static Column C<T>(DicomTag tag, Expression<Func<T, string?>> selector, bool sql = true) => new(tag, selector, sql);
    private static Column N<T>(DicomTag tag, Expression<Func<T, int?>> selector, bool sql = true) => new(tag, selector, sql);

    private static readonly Column[] PatientColumns =
    [
        C<Patient>(DicomTags.PatientID, p => p.PatientID),
        C<Patient>(DicomTags.IssuerOfPatientID, p => p.IssuerOfPatientID),
        C<Patient>(DicomTags.PatientName, p => p.PatientName, sql: false), // PN: matched in memory (normalisation, case)
        C<Patient>(DicomTags.PatientBirthDate, p => p.PatientBirthDate),
        C<Patient>(DicomTags.PatientSex, p => p.PatientSex),
        N<Patient>(DicomTags.NumberOfPatientRelatedStudies, p => p.NumberOfStudies, sql: false),
        N<Patient>(DicomTags.NumberOfPatientRelatedSeries, p => p.NumberOfSeries, sql: false),
        N<Patient>(DicomTags.NumberOfPatientRelatedInstances, p => p.NumberOfInstances, sql: false),
    ];

    private static readonly Column[] StudyColumns =
    [
        C<Study>(DicomTags.StudyInstanceUID, s => s.StudyInstanceUID),
        C<Study>(DicomTags.StudyDate, s => s.StudyDate),
        C<Study>(DicomTags.StudyTime, s => s.StudyTime, sql: false), // TM: stored unnormalised, matched in memory
        C<Study>(DicomTags.AccessionNumber, s => s.AccessionNumber),
        C<Study>(DicomTags.StudyID, s => s.StudyID),
        C<Study>(DicomTags.StudyDescription, s => s.StudyDescription),
        C<Study>(DicomTags.ReferringPhysicianName, s => s.ReferringPhysicianName, sql: false),
        C<Study>(DicomTags.ModalitiesInStudy, s => s.ModalitiesInStudy, sql: false), // multi-valued
        N<Study>(DicomTags.NumberOfStudyRelatedSeries, s => s.NumberOfSeries, sql: false),
        N<Study>(DicomTags.NumberOfStudyRelatedInstances, s => s.NumberOfInstances, sql: false),
    ];

    private static readonly Column[] SeriesColumns =
    [
        C<Series>(DicomTags.SeriesInstanceUID, s => s.SeriesInstanceUID),
        C<Series>(DicomTags.Modality, s => s.Modality),
        N<Series>(DicomTags.SeriesNumber, s => s.SeriesNumber),
        C<Series>(DicomTags.SeriesDescription, s => s.SeriesDescription),
        C<Series>(DicomTags.BodyPartExamined, s => s.BodyPartExamined),
        C<Series>(DicomTags.Manufacturer, s => s.Manufacturer),
        C<Series>(DicomTags.ManufacturerModelName, s => s.ManufacturerModelName),
        C<Series>(DicomTags.SeriesDate, s => s.SeriesDate),
        C<Series>(DicomTags.SeriesTime, s => s.SeriesTime, sql: false),
        N<Series>(DicomTags.NumberOfSeriesRelatedInstances, s => s.NumberOfInstances, sql: false),
    ];

    private static readonly Column[] InstanceColumns =
    [
        C<Instance>(DicomTags.SOPInstanceUID, i => i.SOPInstanceUID),
        C<Instance>(DicomTags.SOPClassUID, i => i.SOPClassUID),
        N<Instance>(DicomTags.InstanceNumber, i => i.InstanceNumber),
        N<Instance>(DicomTags.NumberOfFrames, i => i.NumberOfFrames, sql: false),
        N<Instance>(DicomTags.Rows, i => i.Rows, sql: false),
        N<Instance>(DicomTags.Columns, i => i.Columns, sql: false),
    ];

    private static readonly HashSet<DicomTag> Supported =
        PatientColumns.Concat(StudyColumns).Concat(SeriesColumns).Concat(InstanceColumns).Select(c => c.Tag).ToHashSet();

    /// <summary>Keys this handler matches on; others are return-only (answered empty when asked for).</summary>
    public static bool SupportedKeys(DicomTag tag) => Supported.Contains(tag);

    /// <summary>The columns of one level and every level above, as selectors from the level's entity.</summary>
    private static List<Column> ColumnsFrom<T>(params (Column[] Columns, LambdaExpression? Path)[] levels)
    {
        var result = new List<Column>();
        foreach (var (columns, path) in levels)
        {
            foreach (var c in columns)
            {
                if (path is null)
                {
                    result.Add(c);
                    continue;
                }
                // c.Selector: Parent -> value; path: T -> Parent. Compose to T -> value.
                var body = ReplacingExpressionVisitor.Replace(c.Selector.Parameters[0], path.Body, c.Selector.Body);
                result.Add(c with { Selector = Expression.Lambda(body, path.Parameters[0]) });
            }
        }
        return result;
    }

    private static LambdaExpression P<T, TParent>(Expression<Func<T, TParent>> path) => path;

    private static readonly List<Column> PatientLevel = ColumnsFrom<Patient>((PatientColumns, null));
    private static readonly List<Column> StudyLevel = ColumnsFrom<Study>((StudyColumns, null), (PatientColumns, P<Study, Patient>(s => s.Patient)));
    private static readonly List<Column> SeriesLevel = ColumnsFrom<Series>((SeriesColumns, null), (StudyColumns, P<Series, Study>(s => s.Study)),
        (PatientColumns, P<Series, Patient>(s => s.Study.Patient)));
    private static readonly List<Column> InstanceLevel = ColumnsFrom<Instance>((InstanceColumns, null), (SeriesColumns, P<Instance, Series>(i => i.Series)),
        (StudyColumns, P<Instance, Study>(i => i.Series.Study)), (PatientColumns, P<Instance, Patient>(i => i.Series.Study.Patient)));

    // ------------------------------------------------------------------ C-FIND

    public async IAsyncEnumerable<DicomDataset> FindAsync(DicomFindRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var query = request.Query;
        switch (request.Level)
        {
            case QueryRetrieveLevel.Patient:
                await foreach (var p in Filter(db.Patients.AsNoTracking(), PatientLevel, query).OrderBy(p => p.Id).AsAsyncEnumerable().WithCancellation(ct))
                    if (Candidate(p) is var c && query.Matches(c)) yield return c;
                break;
            case QueryRetrieveLevel.Study:
                await foreach (var s in Filter(db.Studies.AsNoTracking().Include(s => s.Patient), StudyLevel, query).OrderBy(s => s.Id).AsAsyncEnumerable().WithCancellation(ct))
                    if (Candidate(s) is var c && query.Matches(c)) yield return c;
                break;
            case QueryRetrieveLevel.Series:
                await foreach (var s in Filter(db.Series.AsNoTracking().Include(s => s.Study).ThenInclude(s => s.Patient), SeriesLevel, query)
                                   .OrderBy(s => s.Id).AsAsyncEnumerable().WithCancellation(ct))
                    if (Candidate(s) is var c && query.Matches(c)) yield return c;
                break;
            default:
                await foreach (var i in InstanceQuery(db, query).AsAsyncEnumerable().WithCancellation(ct))
                    if (Candidate(i) is var c && query.Matches(c)) yield return c;
                break;
        }
    }

    private static IQueryable<Instance> InstanceQuery(KaapanaDbContext db, DicomQuery query) =>
        Filter(db.Instances.AsNoTracking().Include(i => i.Series).ThenInclude(s => s.Study).ThenInclude(s => s.Patient), InstanceLevel, query)
            .OrderBy(i => i.Id);

    private static IQueryable<T> Filter<T>(IQueryable<T> source, List<Column> columns, DicomQuery query)
    {
        foreach (var key in query.MatchingKeys)
        {
            var column = columns.FirstOrDefault(c => c.Tag == key.Tag);
            if (column is null || !column.Sql) continue;
            if (Predicate(column.Selector, key) is { } body)
                source = source.Where(Expression.Lambda<Func<T, bool>>(body, column.Selector.Parameters[0]));
        }
        return source;
    }

    private static readonly Expression Functions = Expression.Constant(EF.Functions);
    private static readonly System.Reflection.MethodInfo LikeMethod = typeof(DbFunctionsExtensions).GetMethod(nameof(DbFunctionsExtensions.Like),
        [typeof(DbFunctions), typeof(string), typeof(string), typeof(string)])!;
    private static readonly System.Reflection.MethodInfo CompareMethod = typeof(string).GetMethod(nameof(string.Compare), [typeof(string), typeof(string)])!;

    /// <summary>A SQL-translatable predicate that holds for every match of <paramref name="key"/> (a superset is fine); null: no filter.</summary>
    private static Expression? Predicate(LambdaExpression selector, QueryKey key)
    {
        var e = selector.Body;
        if (key.Kind == QueryMatchKind.EmptyValue)
            return e.Type == typeof(string)
                ? Expression.OrElse(Expression.Equal(e, Expression.Constant(null, typeof(string))), Expression.Equal(e, Expression.Constant("")))
                : Expression.Equal(e, Expression.Constant(null, e.Type));
        if (key.IgnoreCase || key.Terms.Count == 0) return null;
        Expression? result = null;
        foreach (var term in key.Terms)
        {
            var one = TermPredicate(e, term);
            if (one is null) return null; // one term we cannot express: the OR is unrestricted
            result = result is null ? one : Expression.OrElse(result, one);
        }
        return result;
    }

    private static Expression? TermPredicate(Expression e, QueryTerm term)
    {
        switch (term)
        {
            case ValueTerm v when e.Type == typeof(string):
                return Expression.Equal(e, Expression.Constant(v.Value, typeof(string)));
            case ValueTerm v when e.Type == typeof(int?):
                return int.TryParse(v.Value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
                    ? Expression.Equal(e, Expression.Constant((int?)n, typeof(int?))) : null;
            case WildcardTerm w when e.Type == typeof(string):
                return Expression.Call(LikeMethod, Functions, e, Expression.Constant(w.ToSqlLike()), Expression.Constant("\\"));
            case RangeTerm { Format: QueryRangeFormat.Date, TimeTag: null } r when e.Type == typeof(string):
                Expression p = Expression.NotEqual(e, Expression.Constant(null, typeof(string)));
                if (r.Lower is not null)
                    p = Expression.AndAlso(p, Expression.GreaterThanOrEqual(Expression.Call(CompareMethod, e, Expression.Constant(r.Lower)), Expression.Constant(0)));
                if (r.Upper is not null)
                    p = Expression.AndAlso(p, Expression.LessThanOrEqual(Expression.Call(CompareMethod, e, Expression.Constant(r.Upper)), Expression.Constant(0)));
                return p;
            default:
                return null;
        }
    }

    // ------------------------------------------------------------------ candidates

    private static void Put(DicomDataset ds, DicomTag tag, string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        // Multi-valued attributes (ModalitiesInStudy) are kept joined by backslash, as encoded.
        ds.Set(tag, value.Split('\\'));
    }

    private static void Put(DicomDataset ds, DicomTag tag, int? value)
    {
        if (value is { } v) ds.Set(tag, v.ToString(CultureInfo.InvariantCulture));
    }

    private static DicomDataset Candidate(Patient p)
    {
        var ds = new DicomDataset();
        ds.Set(DicomTags.SpecificCharacterSet, "ISO_IR 192"); // the index keeps text as .NET strings
        ds.Set(DicomTags.PatientID, p.PatientID);
        Put(ds, DicomTags.IssuerOfPatientID, p.IssuerOfPatientID);
        Put(ds, DicomTags.PatientName, p.PatientName);
        Put(ds, DicomTags.PatientBirthDate, p.PatientBirthDate);
        Put(ds, DicomTags.PatientSex, p.PatientSex);
        Put(ds, DicomTags.NumberOfPatientRelatedStudies, p.NumberOfStudies);
        Put(ds, DicomTags.NumberOfPatientRelatedSeries, p.NumberOfSeries);
        Put(ds, DicomTags.NumberOfPatientRelatedInstances, p.NumberOfInstances);
        return ds;
    }

    private static DicomDataset Candidate(Study s)
    {
        var ds = Candidate(s.Patient);
        ds.Set(DicomTags.StudyInstanceUID, s.StudyInstanceUID);
        Put(ds, DicomTags.StudyDate, s.StudyDate);
        Put(ds, DicomTags.StudyTime, s.StudyTime);
        Put(ds, DicomTags.AccessionNumber, s.AccessionNumber);
        Put(ds, DicomTags.StudyID, s.StudyID);
        Put(ds, DicomTags.StudyDescription, s.StudyDescription);
        Put(ds, DicomTags.ReferringPhysicianName, s.ReferringPhysicianName);
        Put(ds, DicomTags.ModalitiesInStudy, s.ModalitiesInStudy);
        Put(ds, DicomTags.NumberOfStudyRelatedSeries, s.NumberOfSeries);
        Put(ds, DicomTags.NumberOfStudyRelatedInstances, s.NumberOfInstances);
        return ds;
    }

    private static DicomDataset Candidate(Series s)
    {
        var ds = Candidate(s.Study);
        ds.Set(DicomTags.SeriesInstanceUID, s.SeriesInstanceUID);
        Put(ds, DicomTags.Modality, s.Modality);
        Put(ds, DicomTags.SeriesNumber, s.SeriesNumber);
        Put(ds, DicomTags.SeriesDescription, s.SeriesDescription);
        Put(ds, DicomTags.BodyPartExamined, s.BodyPartExamined);
        Put(ds, DicomTags.Manufacturer, s.Manufacturer);
        Put(ds, DicomTags.ManufacturerModelName, s.ManufacturerModelName);
        Put(ds, DicomTags.SeriesDate, s.SeriesDate);
        Put(ds, DicomTags.SeriesTime, s.SeriesTime);
        Put(ds, DicomTags.NumberOfSeriesRelatedInstances, s.NumberOfInstances);
        return ds;
    }

    private static DicomDataset Candidate(Instance i)
    {
        var ds = Candidate(i.Series);
        ds.Set(DicomTags.SOPInstanceUID, i.SOPInstanceUID);
        ds.Set(DicomTags.SOPClassUID, i.SOPClassUID);
        Put(ds, DicomTags.InstanceNumber, i.InstanceNumber);
        Put(ds, DicomTags.NumberOfFrames, i.NumberOfFrames);
        if (i.Rows is { } r) ds.Set(DicomTags.Rows, (ushort)r);
        if (i.Columns is { } c) ds.Set(DicomTags.Columns, (ushort)c);
        return ds;
    }

    // ------------------------------------------------------------------ C-MOVE / C-GET

    public ValueTask<DicomApplicationEntity?> ResolveDestinationAsync(string aeTitle, DicomRetrieveRequest request, CancellationToken ct)
    {
        var node = options.Value.FindRemoteNode(aeTitle);
        if (node is null) logger.LogWarning("C-MOVE from {CallingAE} to unknown destination {Destination}", request.CallingAE, aeTitle);
        return ValueTask.FromResult(node is null ? null : new DicomApplicationEntity(node.AETitle.Trim(), node.Host, node.Port));
    }

    /// <summary>The instances below the identifier's unique keys (any level), matched like an IMAGE-level C-FIND.</summary>
    public async IAsyncEnumerable<DicomRetrieveInstance> GetInstancesAsync(DicomRetrieveRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        await foreach (var i in InstanceQuery(db, request.Query).AsAsyncEnumerable().WithCancellation(ct))
        {
            if (!request.Query.Matches(Candidate(i))) continue;
            var key = i.StoragePath;
            yield return DicomRetrieveInstance.FromPart10(i.SOPClassUID, i.SOPInstanceUID, DicomTransferSyntax.Lookup(i.TransferSyntaxUID),
                _ => ValueTask.FromResult(storage.OpenRead(key)));
        }
    }
}
