using System.Globalization;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Kaapana.Core.Access;
using Kaapana.Core.Archive.Index;
using Kaapana.Dicom;
using Kaapana.Dicom.Network.Query;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;

namespace Kaapana.Core.Archive.Query;

/// <summary>The matches of a search: streamed when enumerated (each enumeration opens its own index context).</summary>
/// <param name="HasMore">A limit was given and more matches follow the returned page.</param>
/// <param name="PagedInSql">Offset and limit were applied by the database (every key had an exact SQL form), not by scanning.</param>
public sealed record IndexSearchResult(IAsyncEnumerable<DicomDataset> Matches, bool HasMore, bool PagedInSql);

/// <summary>
/// Attribute matching over the archive index at one level (PATIENT, STUDY, SERIES, IMAGE), shared by C-FIND and QIDO-RS so
/// both answer the same keys with the same entities. Each key with an index column becomes a SQL predicate where that can be
/// done exactly or as a superset (UIDs and single values: equality or IN; wildcards: LIKE via <see cref="WildcardTerm.ToSqlLike"/>;
/// date ranges: ordinal comparison of the normalised bounds; empty value: null or ""); then every candidate is checked with
/// <see cref="DicomQuery.Matches(DicomDataset)"/>, so PN normalisation, time and combined date-time ranges and multi-valued
/// attributes follow the DICOM rules exactly. Keys without a column are return-only (<see cref="MatchOptions"/>).
/// A candidate holds the entity's index attributes and those of the levels above; callers turn it into a response with
/// <see cref="DicomQuery.CreateResponse"/>.
/// <para>Paging: when every matching key has an exact SQL form, offset and limit go into the SQL query; otherwise the candidates
/// are scanned in index order and counted. Either way a first pass finds the page up to limit + 1 matches (so the caller knows
/// whether more matches follow before it writes anything), keeping the first chunk as candidates and only the ids after it;
/// those rows are read again, a chunk at a time, as the page is streamed.</para>
/// <para>Every value reaches SQL as a parameter: EF Core compiles a query once per expression shape.</para>
/// </summary>
public sealed class IndexSearch(IDbContextFactory<KaapanaDbContext> dbFactory)
{
    private const int LoadChunk = 500;

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

    // Fuzzy name matching pre-filters on the search form of the name (upper case, no diacritics, words separated by spaces).
    private static readonly Column[] PatientNameSearchColumn = [C<Patient>(DicomTags.PatientName, p => p.PatientNameSearch)];

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

    /// <summary>Keys the index matches on; others are return-only (answered empty when asked for).</summary>
    public static bool SupportedKeys(DicomTag tag) => Supported.Contains(tag);

    /// <summary>How identifiers are parsed for the index: the defaults, with keys lacking a column treated as return keys.</summary>
    public static QueryMatchOptions MatchOptions { get; } = QueryMatchOptions.Default with { IsKeySupported = SupportedKeys };

    /// <summary>Parses an identifier with <see cref="MatchOptions"/>. Throws <see cref="DicomQueryException"/> for malformed keys.</summary>
    public static DicomQuery Parse(DicomDataset identifier) => DicomQuery.Parse(identifier, MatchOptions);

    /// <summary>The attributes the index holds for an entity of <paramref name="level"/> and the levels above (in tag order).</summary>
    public static IReadOnlyList<DicomTag> AttributesAt(QueryRetrieveLevel level)
    {
        IEnumerable<Column> columns = PatientColumns;
        if (level >= QueryRetrieveLevel.Study) columns = columns.Concat(StudyColumns);
        if (level >= QueryRetrieveLevel.Series) columns = columns.Concat(SeriesColumns);
        if (level >= QueryRetrieveLevel.Image) columns = columns.Concat(InstanceColumns);
        return columns.Select(c => c.Tag).Append(DicomTags.InstanceAvailability).Distinct().Order().ToArray();
    }

    /// <summary>The columns of one level and every level above, as selectors from the level's entity.</summary>
    private static List<Column> ColumnsFrom(params (Column[] Columns, LambdaExpression? Path)[] levels)
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

    /// <summary>One level of the index: its rows (with the levels above loaded), columns and candidate builder.</summary>
    /// <param name="StudyOf">The row's study (null at the patient level), <paramref name="PatientOf"/> its patient: their
    /// aggregates are recomputed in a project scope (<see cref="ScopeAggregatesAsync"/>).</param>
    private sealed record LevelSpec<T>(Func<KaapanaDbContext, IQueryable<T>> Source, List<Column> Columns, Column NameSearch,
        Func<T, DicomDataset> Candidate, Func<T, long> IdOf, Func<KaapanaDbContext, int[], Expression<Func<T, bool>>> InProjects,
        Func<T, Study?> StudyOf, Func<T, Patient> PatientOf) where T : class
    {
        /// <summary>The level's rows, restricted to <paramref name="projects"/> unless null.</summary>
        public IQueryable<T> Rows(KaapanaDbContext db, int[]? projects) => projects is null ? Source(db) : Source(db).Where(InProjects(db, projects));

        public Expression<Func<T, long>> Id { get; } = IdSelector();

        private static Expression<Func<T, long>> IdSelector()
        {
            var p = Expression.Parameter(typeof(T), "e");
            return Expression.Lambda<Func<T, long>>(Expression.Property(p, "Id"), p);
        }
    }

    private static readonly LevelSpec<Patient> PatientLevel = new(db => db.Patients.AsNoTracking(),
        ColumnsFrom((PatientColumns, null)), ColumnsFrom((PatientNameSearchColumn, null))[0], Candidate, p => p.Id,
        (db, ids) => p => db.Studies.Any(st => st.PatientId == p.Id
            && db.Series.Any(se => se.StudyId == st.Id && db.ProjectSeries.Any(ps => ps.SeriesId == se.Id && ids.Contains(ps.ProjectId)))), _ => null, p => p);

    private static readonly LevelSpec<Study> StudyLevel = new(db => db.Studies.AsNoTracking().Include(s => s.Patient),
        ColumnsFrom((StudyColumns, null), (PatientColumns, P<Study, Patient>(s => s.Patient))),
        ColumnsFrom((PatientNameSearchColumn, P<Study, Patient>(s => s.Patient)))[0], Candidate, s => s.Id,
        (db, ids) => s => db.Series.Any(se => se.StudyId == s.Id && db.ProjectSeries.Any(ps => ps.SeriesId == se.Id && ids.Contains(ps.ProjectId))),
        s => s, s => s.Patient);

    private static readonly LevelSpec<Series> SeriesLevel = new(db => db.Series.AsNoTracking().Include(s => s.Study).ThenInclude(s => s.Patient),
        ColumnsFrom((SeriesColumns, null), (StudyColumns, P<Series, Study>(s => s.Study)), (PatientColumns, P<Series, Patient>(s => s.Study.Patient))),
        ColumnsFrom((PatientNameSearchColumn, P<Series, Patient>(s => s.Study.Patient)))[0], Candidate, s => s.Id,
        (db, ids) => s => db.ProjectSeries.Any(ps => ids.Contains(ps.ProjectId) && ps.SeriesId == s.Id), s => s.Study, s => s.Study.Patient);

    private static readonly LevelSpec<Instance> InstanceLevel = new(
        db => db.Instances.AsNoTracking().Include(i => i.Series).ThenInclude(s => s.Study).ThenInclude(s => s.Patient),
        ColumnsFrom((InstanceColumns, null), (SeriesColumns, P<Instance, Series>(i => i.Series)), (StudyColumns, P<Instance, Study>(i => i.Series.Study)),
            (PatientColumns, P<Instance, Patient>(i => i.Series.Study.Patient))),
        ColumnsFrom((PatientNameSearchColumn, P<Instance, Patient>(i => i.Series.Study.Patient)))[0], Candidate, i => i.Id,
        (db, ids) => i => db.ProjectSeries.Any(ps => ids.Contains(ps.ProjectId) && ps.SeriesId == i.SeriesId), i => i.Series.Study,
        i => i.Series.Study.Patient);

    private const int AggregateChunk = 100;

    /// <summary>
    /// The rows as they are, or in a project scope with the aggregates of their study and patient (Number of Study/Patient
    /// Related Series/Instances/Studies, Modalities in Study) recomputed from the visible series only: the stored ones cover
    /// the whole archive and would tell about other projects' series. Done a chunk at a time, before the rows become
    /// candidates, so keys on these attributes match the scoped values too.
    /// </summary>
    private async IAsyncEnumerable<T> ScopedAsync<T>(LevelSpec<T> spec, IAsyncEnumerable<T> rows, int[]? projects,
        [EnumeratorCancellation] CancellationToken ct) where T : class
    {
        if (projects is null)
        {
            await foreach (var row in rows.WithCancellation(ct).ConfigureAwait(false)) yield return row;
            yield break;
        }
        var chunk = new List<T>(AggregateChunk);
        await foreach (var row in rows.WithCancellation(ct).ConfigureAwait(false))
        {
            chunk.Add(row);
            if (chunk.Count < AggregateChunk) continue;
            await ScopeAggregatesAsync(spec, chunk, projects, ct).ConfigureAwait(false);
            foreach (var r in chunk) yield return r;
            chunk.Clear();
        }
        await ScopeAggregatesAsync(spec, chunk, projects, ct).ConfigureAwait(false);
        foreach (var r in chunk) yield return r;
    }

    /// <summary>
    /// Overwrites the aggregates of the rows' studies and patients (no-tracking copies, never saved) with those of their
    /// series in <paramref name="projects"/>: one query per chunk, on a context of its own (the rows' reader may still be open).
    /// </summary>
    private async Task ScopeAggregatesAsync<T>(LevelSpec<T> spec, List<T> rows, int[] projects, CancellationToken ct) where T : class
    {
        if (rows.Count == 0) return;
        var patientIds = rows.Select(r => spec.PatientOf(r).Id).Distinct().ToArray();
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var visible = await db.Series.AsNoTracking().InProjects(db, projects).Where(s => patientIds.Contains(s.Study.PatientId))
            .Select(s => new { s.Study.PatientId, s.StudyId, s.NumberOfInstances, s.Modality }).ToListAsync(ct).ConfigureAwait(false);
        var byStudy = visible.ToLookup(v => v.StudyId);
        var byPatient = visible.ToLookup(v => v.PatientId);
        foreach (var row in rows)
        {
            var patient = spec.PatientOf(row);
            var ofPatient = byPatient[patient.Id];
            patient.NumberOfStudies = ofPatient.Select(v => v.StudyId).Distinct().Count();
            patient.NumberOfSeries = ofPatient.Count();
            patient.NumberOfInstances = ofPatient.Sum(v => v.NumberOfInstances);
            if (spec.StudyOf(row) is not { } study) continue;
            var ofStudy = byStudy[study.Id];
            study.NumberOfSeries = ofStudy.Count();
            study.NumberOfInstances = ofStudy.Sum(v => v.NumberOfInstances);
            var modalities = ofStudy.Select(v => v.Modality).OfType<string>().Where(m => m.Length > 0).Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal).ToList();
            study.ModalitiesInStudy = modalities.Count == 0 ? null : string.Join('\\', modalities);
        }
    }

    // ------------------------------------------------------------------ search

    /// <summary>Parses <paramref name="identifier"/> (see <see cref="Parse"/>) and searches at <paramref name="level"/>.</summary>
    public Task<IndexSearchResult> SearchAsync(QueryRetrieveLevel level, DicomDataset identifier, IndexSearchOptions? options = null,
        CancellationToken ct = default) => SearchAsync(level, Parse(identifier), options, ct);

    /// <summary>
    /// The candidates at <paramref name="level"/> that match <paramref name="query"/>, in index order. Without a limit nothing
    /// runs before the matches are enumerated; with one, the page is found first (so <see cref="IndexSearchResult.HasMore"/>
    /// is known) and the rows beyond its first chunk are loaded while it is enumerated.
    /// </summary>
    public Task<IndexSearchResult> SearchAsync(QueryRetrieveLevel level, DicomQuery query, IndexSearchOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        options ??= IndexSearchOptions.Default;
        if (options.Offset < 0) throw new ArgumentOutOfRangeException(nameof(options), "Offset must not be negative.");
        if (options.Limit is <= 0) throw new ArgumentOutOfRangeException(nameof(options), "Limit must be positive.");
        var plan = Plan.Create(query, options.FuzzyPersonNames);
        return level switch
        {
            QueryRetrieveLevel.Patient => RunAsync(PatientLevel, plan, options, ct),
            QueryRetrieveLevel.Study => RunAsync(StudyLevel, plan, options, ct),
            QueryRetrieveLevel.Series => RunAsync(SeriesLevel, plan, options, ct),
            _ => RunAsync(InstanceLevel, plan, options, ct),
        };
    }

    /// <summary>The instance rows matching <paramref name="query"/> as an IMAGE-level search (the instances C-MOVE and C-GET send).</summary>
    /// <param name="projectIds">Only instances of series in these projects; null: every project.</param>
    public async IAsyncEnumerable<Instance> FindInstancesAsync(DicomQuery query, IReadOnlyCollection<int>? projectIds = null,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var plan = Plan.Create(query, fuzzy: false);
        var scope = projectIds?.ToArray();
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var source = Filter(InstanceLevel.Rows(db, scope), InstanceLevel, plan, out _).OrderBy(InstanceLevel.Id);
        await foreach (var i in ScopedAsync(InstanceLevel, source.AsAsyncEnumerable(), scope, ct).ConfigureAwait(false))
            if (plan.IsMatch(Candidate(i))) yield return i;
    }

    private async Task<IndexSearchResult> RunAsync<T>(LevelSpec<T> spec, Plan plan, IndexSearchOptions options, CancellationToken ct) where T : class
    {
        var scope = options.ProjectIds?.ToArray();
        var candidateOf = spec.Candidate;
        if (options.Limit is not { } limit) return new IndexSearchResult(StreamAsync(spec, plan, scope, options.Offset, ct), false, false);

        // The first pass keeps the first chunk of the page as candidates (a typical page is all of it, so no second query
        // runs) and only the ids of the matches after it; it stops at limit + 1 matches, so HasMore is known.
        var head = new List<DicomDataset>();
        var ids = new List<long>();
        bool exact;
        await using (var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false))
        {
            var source = Filter(spec.Rows(db, scope), spec, plan, out exact).OrderBy(spec.Id);
            if (exact)
            {
                var rows = await Page(source, options.Offset, Math.Min(limit + 1, LoadChunk)).ToListAsync(ct).ConfigureAwait(false);
                if (scope is not null) await ScopeAggregatesAsync(spec, rows, scope, ct).ConfigureAwait(false);
                foreach (var e in rows)
                    if (candidateOf(e) is var candidate && plan.IsMatch(candidate)) head.Add(candidate);
                if (rows.Count == LoadChunk && limit + 1 > LoadChunk)
                    ids = await Page(source.Select(spec.Id), options.Offset + LoadChunk, limit + 1 - LoadChunk).ToListAsync(ct).ConfigureAwait(false);
            }
            else
            {
                int skipped = 0;
                await foreach (var e in ScopedAsync(spec, source.AsAsyncEnumerable(), scope, ct).ConfigureAwait(false))
                {
                    var candidate = candidateOf(e);
                    if (!plan.IsMatch(candidate)) continue;
                    if (skipped < options.Offset)
                    {
                        skipped++;
                        continue;
                    }
                    if (head.Count < LoadChunk) head.Add(candidate);
                    else ids.Add(spec.IdOf(e));
                    if (head.Count + ids.Count > limit) break;
                }
            }
        }
        bool more = head.Count + ids.Count > limit;
        if (more)
        {
            if (ids.Count > 0) ids.RemoveAt(ids.Count - 1);
            else head.RemoveAt(head.Count - 1);
        }
        return new IndexSearchResult(PageAsync(spec, plan, scope, head, ids, ct), more, exact);
    }

    private async IAsyncEnumerable<DicomDataset> PageAsync<T>(LevelSpec<T> spec, Plan plan, int[]? scope, List<DicomDataset> head, List<long> ids,
        [EnumeratorCancellation] CancellationToken ct) where T : class
    {
        foreach (var candidate in head) yield return candidate;
        await foreach (var candidate in LoadAsync(spec, plan, scope, ids, ct).ConfigureAwait(false)) yield return candidate;
    }

    /// <summary>Skip and Take with the counts as SQL parameters: constants would make every page size a new query to compile.</summary>
    private static IQueryable<TResult> Page<TResult>(IQueryable<TResult> source, int skip, int take)
    {
        var skipped = source.Provider.CreateQuery<TResult>(Expression.Call(typeof(Queryable), nameof(Queryable.Skip), [typeof(TResult)],
            source.Expression, Parameter(skip)));
        return skipped.Provider.CreateQuery<TResult>(Expression.Call(typeof(Queryable), nameof(Queryable.Take), [typeof(TResult)],
            skipped.Expression, Parameter(take)));
    }

    private async IAsyncEnumerable<DicomDataset> StreamAsync<T>(LevelSpec<T> spec, Plan plan, int[]? scope, int offset,
        [EnumeratorCancellation] CancellationToken ct) where T : class
    {
        var candidateOf = spec.Candidate;
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var source = Filter(spec.Rows(db, scope), spec, plan, out _).OrderBy(spec.Id);
        int skipped = 0;
        await foreach (var e in ScopedAsync(spec, source.AsAsyncEnumerable(), scope, ct).ConfigureAwait(false))
        {
            var candidate = candidateOf(e);
            if (!plan.IsMatch(candidate)) continue;
            if (skipped < offset)
            {
                skipped++;
                continue;
            }
            yield return candidate;
        }
    }

    /// <summary>
    /// The rows of <paramref name="ids"/> (ascending), a chunk at a time; rows changed since the first pass so that they no
    /// longer match are left out. A chunk is read as the id range it spans under the query's own SQL filter, so the SQL has
    /// one shape (compiled once) and SQLite walks the primary key; rows in the range that are not in the chunk are skipped.
    /// </summary>
    private async IAsyncEnumerable<DicomDataset> LoadAsync<T>(LevelSpec<T> spec, Plan plan, int[]? scope, List<long> ids,
        [EnumeratorCancellation] CancellationToken ct) where T : class
    {
        if (ids.Count == 0) yield break;
        var candidateOf = spec.Candidate;
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var id = spec.Id.Body;
        for (int at = 0; at < ids.Count; at += LoadChunk)
        {
            var chunk = ids.GetRange(at, Math.Min(LoadChunk, ids.Count - at));
            var wanted = chunk.ToHashSet();
            var range = Expression.AndAlso(Expression.GreaterThanOrEqual(id, Parameter(chunk[0])), Expression.LessThanOrEqual(id, Parameter(chunk[^1])));
            var rows = Filter(spec.Rows(db, scope), spec, plan, out _).Where(Expression.Lambda<Func<T, bool>>(range, spec.Id.Parameters[0])).OrderBy(spec.Id);
            await foreach (var e in ScopedAsync(spec, rows.AsAsyncEnumerable(), scope, ct).ConfigureAwait(false))
                if (wanted.Contains(spec.IdOf(e)) && candidateOf(e) is var candidate && plan.IsMatch(candidate)) yield return candidate;
        }
    }

    // ------------------------------------------------------------------ SQL

    /// <param name="exact">True when the SQL predicates select exactly the matches (no key left to the in-memory check).</param>
    private static IQueryable<T> Filter<T>(IQueryable<T> source, LevelSpec<T> spec, Plan plan, out bool exact) where T : class
    {
        exact = plan.Fuzzy.Count == 0;
        foreach (var key in plan.Query.MatchingKeys)
        {
            var column = spec.Columns.FirstOrDefault(c => c.Tag == key.Tag);
            if (column is null || !column.Sql)
            {
                exact = false;
                if (key.Tag == DicomTags.PatientName && column is not null && NamePrefixPredicate(column.Selector, spec.NameSearch.Selector, key) is { } names)
                    source = source.Where(Expression.Lambda<Func<T, bool>>(names, column.Selector.Parameters[0]));
                continue;
            }
            if (Predicate(column.Selector, key, out bool keyExact) is { } body)
                source = source.Where(Expression.Lambda<Func<T, bool>>(body, column.Selector.Parameters[0]));
            exact &= keyExact;
        }
        foreach (var fuzzy in plan.Fuzzy)
        {
            if (fuzzy.Tag != DicomTags.PatientName) continue; // other PN attributes: in memory only
            if (fuzzy.SqlPredicate(spec.NameSearch.Selector) is { } body)
                source = source.Where(Expression.Lambda<Func<T, bool>>(body, spec.NameSearch.Selector.Parameters[0]));
        }
        return source;
    }

    private static readonly Expression Functions = Expression.Constant(EF.Functions);
    private static readonly System.Reflection.MethodInfo LikeMethod = typeof(DbFunctionsExtensions).GetMethod(nameof(DbFunctionsExtensions.Like),
        [typeof(DbFunctions), typeof(string), typeof(string), typeof(string)])!;
    private static readonly System.Reflection.MethodInfo CompareMethod = typeof(string).GetMethod(nameof(string.Compare), [typeof(string), typeof(string)])!;

    private static Expression Like(Expression e, string pattern) =>
        Expression.Call(LikeMethod, Functions, e, Parameter(pattern), Expression.Constant("\\"));

    /// <summary>
    /// A value the SQL receives as a parameter: read from an object's field, as a captured variable is, so EF Core lifts it
    /// out of the expression. A constant would be part of the query's cache key, making every new value a new query that EF
    /// Core compiles again (~10 ms CPU per request, measured).
    /// </summary>
    private static Expression Parameter<TValue>(TValue value) => Expression.Field(Expression.Constant(new Box<TValue>(value)), nameof(Box<TValue>.Value));

    private sealed class Box<TValue>(TValue value)
    {
        public readonly TValue Value = value;
    }

    /// <summary>
    /// A SQL-translatable predicate that holds for every match of <paramref name="key"/> (a superset is fine); null: no filter.
    /// <paramref name="exact"/>: it also holds for nothing else (LIKE is not: SQLite compares ASCII letters case-insensitively).
    /// </summary>
    private static Expression? Predicate(LambdaExpression selector, QueryKey key, out bool exact)
    {
        var e = selector.Body;
        exact = false;
        if (key.Kind == QueryMatchKind.EmptyValue)
        {
            exact = true;
            return e.Type == typeof(string)
                ? Expression.OrElse(Expression.Equal(e, Expression.Constant(null, typeof(string))), Expression.Equal(e, Expression.Constant("")))
                : Expression.Equal(e, Expression.Constant(null, e.Type));
        }
        if (key.IgnoreCase || key.Terms.Count == 0) return null;
        Expression? result = null;
        exact = true;
        foreach (var term in key.Terms)
        {
            var one = TermPredicate(e, term, out bool termExact);
            if (one is null) // one term we cannot express: the OR is unrestricted
            {
                exact = false;
                return null;
            }
            exact &= termExact;
            result = result is null ? one : Expression.OrElse(result, one);
        }
        return result;
    }

    private static readonly System.Reflection.MethodInfo ContainsMethod = typeof(string).GetMethod(nameof(string.Contains), [typeof(string)])!;

    /// <summary>
    /// A SQL superset of a literal PN key's matches (PN itself is matched in memory: normalisation, case), on the index's search
    /// form of the name (<see cref="IndexAttributes.NormalizeName"/>): a name that matches a value or pattern beginning with
    /// ASCII letters or digits A has a search form beginning with A in upper case (the matcher trims leading spaces and
    /// compares upper case; the search form drops leading spaces and is upper case). Except for names with several component
    /// groups (a later group may match) or beginning with a space or control character (the matcher trims NULs, the search
    /// form keeps them): those are always candidates. Null when some term has no such prefix (no filter).
    /// </summary>
    private static Expression? NamePrefixPredicate(LambdaExpression name, LambdaExpression search, QueryKey key)
    {
        if (key.Kind is not (QueryMatchKind.SingleValue or QueryMatchKind.Wildcard or QueryMatchKind.MultipleValues) || key.Terms.Count == 0) return null;
        var form = ReplacingExpressionVisitor.Replace(search.Parameters[0], name.Parameters[0], search.Body);
        Expression? any = null;
        foreach (var term in key.Terms)
        {
            var text = term switch { ValueTerm v => v.Value, WildcardTerm w => w.Pattern, _ => "" };
            int length = 0;
            while (length < text.Length && length < 64 && char.IsAsciiLetterOrDigit(text[length])) length++;
            if (length == 0) return null;
            var prefix = text[..length].ToUpperInvariant();
            var next = prefix[..^1] + (char)(prefix[^1] + 1); // still ASCII: the last character is a letter or digit
            Expression one = Expression.AndAlso(
                Expression.GreaterThanOrEqual(Expression.Call(CompareMethod, form, Parameter(prefix)), Expression.Constant(0)),
                Expression.LessThan(Expression.Call(CompareMethod, form, Parameter(next)), Expression.Constant(0)));
            any = any is null ? one : Expression.OrElse(any, one);
        }
        var n = name.Body;
        var groups = Expression.Call(n, ContainsMethod, Expression.Constant("="));
        var leading = Expression.LessThan(Expression.Call(CompareMethod, n, Expression.Constant("!")), Expression.Constant(0));
        return Expression.OrElse(any!, Expression.AndAlso(Expression.NotEqual(n, Expression.Constant(null, typeof(string))), Expression.OrElse(groups, leading)));
    }

    private static Expression? TermPredicate(Expression e, QueryTerm term, out bool exact)
    {
        exact = true;
        switch (term)
        {
            case ValueTerm v when e.Type == typeof(string):
                return Expression.Equal(e, Parameter(v.Value));
            case ValueTerm v when e.Type == typeof(int?):
                return int.TryParse(v.Value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
                    ? Expression.Equal(e, Parameter((int?)n)) : null;
            case WildcardTerm w when e.Type == typeof(string):
                exact = false;
                return Like(e, w.ToSqlLike());
            case RangeTerm { Format: QueryRangeFormat.Date, TimeTag: null } r when e.Type == typeof(string):
                // Exact for well-formed stored dates (the index keeps DA as YYYYMMDD text).
                Expression p = Expression.NotEqual(e, Expression.Constant(null, typeof(string)));
                if (r.Lower is not null)
                    p = Expression.AndAlso(p, Expression.GreaterThanOrEqual(Expression.Call(CompareMethod, e, Parameter(r.Lower)), Expression.Constant(0)));
                if (r.Upper is not null)
                    p = Expression.AndAlso(p, Expression.LessThanOrEqual(Expression.Call(CompareMethod, e, Parameter(r.Upper)), Expression.Constant(0)));
                return p;
            default:
                exact = false;
                return null;
        }
    }

    // ------------------------------------------------------------------ plan (literal keys + fuzzy names)

    /// <summary>A query ready to run: <see cref="Query"/> holds the literal keys; fuzzy person name keys were taken out of it.</summary>
    private sealed record Plan(DicomQuery Query, IReadOnlyList<FuzzyNameKey> Fuzzy)
    {
        public static Plan Create(DicomQuery query, bool fuzzy)
        {
            if (!fuzzy) return new Plan(query, []);
            var names = query.MatchingKeys.Where(k => k.VR == DicomVR.PN && k.Kind is QueryMatchKind.SingleValue or QueryMatchKind.Wildcard
                or QueryMatchKind.MultipleValues).ToList();
            if (names.Count == 0) return new Plan(query, []);
            var identifier = query.Identifier.Clone();
            var keys = new List<FuzzyNameKey>();
            foreach (var k in names)
            {
                var alternatives = query.Identifier.GetStrings(k.Tag).Select(FuzzyNameKey.Words).ToList();
                identifier.SetEmpty(k.Tag, DicomVR.PN); // now a return key of the literal query
                if (alternatives.Any(a => a.Length == 0)) continue; // a value of only delimiters matches every name
                keys.Add(new FuzzyNameKey(k.Tag, alternatives));
            }
            return new Plan(DicomQuery.Parse(identifier, query.Options), keys);
        }

        public bool IsMatch(DicomDataset candidate)
        {
            if (!Query.Matches(candidate)) return false;
            foreach (var f in Fuzzy)
                if (!f.Matches(candidate)) return false;
            return true;
        }
    }

    /// <summary>A PN key matched fuzzily (see <see cref="IndexSearchOptions.FuzzyPersonNames"/>): any alternative whose words all match.</summary>
    private sealed record FuzzyNameKey(DicomTag Tag, IReadOnlyList<string[]> Alternatives)
    {
        /// <summary>The words of a name or name query, in the index's search form, each as a prefix pattern.</summary>
        public static string[] Words(string value) =>
            (IndexAttributes.NormalizeName(value) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(w => w.EndsWith('*') ? w : w + "*").Distinct().ToArray();

        public bool Matches(DicomDataset candidate)
        {
            if (!candidate.TryGetElement(Tag, out var e) || e is not DicomValueElement { IsEmpty: false }) return false;
            var names = candidate.GetStrings(Tag)
                .Select(v => (IndexAttributes.NormalizeName(v) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
            return Alternatives.Any(words => names.Any(name => words.All(w => name.Any(new WildcardTerm(w).IsMatch))));
        }

        /// <summary>On the search column: each word at the start of the name or after a space (superset of <see cref="Matches"/>).</summary>
        public Expression? SqlPredicate(LambdaExpression searchColumn)
        {
            var e = searchColumn.Body;
            Expression? any = null;
            foreach (var words in Alternatives)
            {
                Expression? all = null;
                foreach (var w in words)
                {
                    var like = new WildcardTerm(w).ToSqlLike();
                    Expression one = Expression.OrElse(Like(e, like), Like(e, "% " + like));
                    all = all is null ? one : Expression.AndAlso(all, one);
                }
                if (all is null) return null;
                any = any is null ? all : Expression.OrElse(any, all);
            }
            return any;
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

    /// <summary>A patient's index attributes as a candidate data set.</summary>
    public static DicomDataset Candidate(Patient p)
    {
        var ds = new DicomDataset();
        ds.Set(DicomTags.SpecificCharacterSet, "ISO_IR 192"); // the index keeps text as .NET strings
        ds.Set(DicomTags.InstanceAvailability, "ONLINE"); // every indexed instance is in the archive's storage
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

    /// <summary>A study's index attributes (with its patient's) as a candidate data set.</summary>
    public static DicomDataset Candidate(Study s)
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

    /// <summary>A series' index attributes (with its study's and patient's) as a candidate data set.</summary>
    public static DicomDataset Candidate(Series s)
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

    /// <summary>An instance's index attributes (with those of the levels above) as a candidate data set.</summary>
    public static DicomDataset Candidate(Instance i)
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
}
