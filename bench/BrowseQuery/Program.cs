// Server-side time of the data browser's filtered, faceted page query on an index of N generated series (default 100,000):
// count + first page of 50 + facet counts of the three filtered keywords (each under the rest of the filter), with three
// keyword filters (Modality and Manufacturer columns, ProtocolName attribute rows) and a Study Date range. Prints p50/p95.
// Usage: dotnet run -c Release --project bench/BrowseQuery -- [series] [runs]
using System.Diagnostics;
using Kaapana.Core.Archive.Browse;
using Kaapana.Core.Archive.Index;
using Kaapana.Dicom;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

int seriesCount = args.Length > 0 ? int.Parse(args[0]) : 100_000;
int runs = args.Length > 1 ? int.Parse(args[1]) : 40;
string dir = Path.Combine(AppContext.BaseDirectory, "../../../../out");
Directory.CreateDirectory(dir);
string dbPath = Path.GetFullPath(Path.Combine(dir, $"browse-{seriesCount}.db"));
string cs = new SqliteConnectionStringBuilder { DataSource = dbPath }.ToString();
var options = new DbContextOptionsBuilder<KaapanaDbContext>().UseSqlite(cs).Options;

string[] modalities = ["CT", "CT", "CT", "MR", "MR", "PT", "CR", "US", "SEG", "RTSTRUCT"];
string[] manufacturers = ["SIEMENS", "GE MEDICAL SYSTEMS", "Philips", "TOSHIBA", "Canon Medical Systems", "Agfa"];
string[] bodyParts = ["CHEST", "HEAD", "ABDOMEN", "PELVIS", "KNEE", "BRAIN", "NECK", "SPINE"];
string[] protocols = Enumerable.Range(0, 40).Select(i => $"Protocol {i:00}").ToArray();
string[] kernels = ["B30f", "B70f", "STANDARD", "LUNG", "BONE", "FC13"];

if (!File.Exists(dbPath))
{
    var sw = Stopwatch.StartNew();
    await using (var db = new KaapanaDbContext(options)) await db.Database.MigrateAsync();
    using var conn = new SqliteConnection(cs);
    conn.Open();
    using (var pragma = conn.CreateCommand()) { pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"; pragma.ExecuteNonQuery(); }
    using var tx = conn.BeginTransaction();
    Exec(conn, tx, "INSERT INTO Projects (Id, Name, CreatedAt) VALUES (1, 'default', '2026-01-01 00:00:00')");
    var rng = new Random(42);
    var patient = Prepare(conn, tx, "INSERT INTO Patients (Id, PatientID, PatientName, PatientNameSearch, PatientSex, PatientBirthDate, NumberOfStudies, NumberOfSeries, NumberOfInstances, CreatedAt) VALUES ($id, $pid, $name, $name, $sex, '19600101', 0, 0, 0, '2026-01-01 00:00:00')", "$id", "$pid", "$name", "$sex");
    var study = Prepare(conn, tx, "INSERT INTO Studies (Id, PatientId, StudyInstanceUID, StudyDate, StudyDescription, AccessionNumber, NumberOfSeries, NumberOfInstances, TotalSize, CreatedAt, LastReceivedAt) VALUES ($id, $pat, $uid, $date, $desc, $acc, 0, 0, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')", "$id", "$pat", "$uid", "$date", "$desc", "$acc");
    var series = Prepare(conn, tx, "INSERT INTO Series (Id, StudyId, SeriesInstanceUID, Modality, SeriesNumber, SeriesDescription, BodyPartExamined, Manufacturer, ManufacturerModelName, NumberOfInstances, TotalSize, CreatedAt, LastReceivedAt, IsComplete) VALUES ($id, $study, $uid, $mod, $num, $desc, $body, $man, 'Model', $n, $size, $created, $created, 1)", "$id", "$study", "$uid", "$mod", "$num", "$desc", "$body", "$man", "$n", "$size", "$created");
    var member = Prepare(conn, tx, "INSERT INTO ProjectSeries (ProjectId, SeriesId, AddedAt) VALUES (1, $id, '2026-01-01 00:00:00')", "$id");
    var attr = Prepare(conn, tx, "INSERT INTO SeriesAttributes (SeriesId, Tag, Value) VALUES ($id, $tag, $value)", "$id", "$tag", "$value");
    // ~30 attribute rows per series, as a CT header leaves after the column attributes (real files carry 40–80).
    var extraTags = DicomDictionary.Entries.Where(e => !e.IsRetired && !e.IsRepeater && e.DefaultVR is DicomVR.LO or DicomVR.SH or DicomVR.CS or DicomVR.DS
        && e.Tag.Group is 0x0008 or 0x0018 or 0x0020 or 0x0028).Select(e => e.Tag).Take(26).ToArray();
    long patients = 0, studies = 0;
    int perPatient = 0, perStudy = 0;
    for (long s = 1; s <= seriesCount; s++)
    {
        if (perPatient == 0) { patients++; perPatient = rng.Next(2, 9); Run(patient, patients, $"P{patients:000000}", $"Name^{patients}", rng.Next(2) == 0 ? "F" : "M"); }
        if (perStudy == 0)
        {
            studies++;
            perStudy = rng.Next(1, 6);
            perPatient--;
            var date = new DateOnly(2005, 1, 1).AddDays(rng.Next(0, 20 * 365));
            Run(study, studies, patients, $"1.2.826.0.1.{studies}", date.ToString("yyyyMMdd"), $"Study {rng.Next(50)}", $"A{studies}");
        }
        perStudy--;
        string modality = modalities[rng.Next(modalities.Length)];
        Run(series, s, studies, $"1.2.826.0.2.{s}", modality, rng.Next(1, 20), $"Series {rng.Next(200)}", bodyParts[rng.Next(bodyParts.Length)],
            manufacturers[rng.Next(manufacturers.Length)], rng.Next(1, 400), rng.Next(1, 400) * 526_000L, DateTime.UtcNow.AddDays(-rng.Next(60)));
        Run(member, s);
        Run(attr, s, unchecked((int)DicomTags.ProtocolName.Value), protocols[rng.Next(protocols.Length)]);
        Run(attr, s, unchecked((int)DicomTags.ConvolutionKernel.Value), kernels[rng.Next(kernels.Length)]);
        Run(attr, s, unchecked((int)DicomTags.SliceThickness.Value), (0.5 * rng.Next(1, 11)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var t in extraTags) Run(attr, s, unchecked((int)t.Value), $"V{rng.Next(30)}");
    }
    tx.Commit();
    using (var analyze = conn.CreateCommand()) { analyze.CommandText = "ANALYZE;"; analyze.ExecuteNonQuery(); }
    Console.WriteLine($"Generated {seriesCount:N0} series ({studies:N0} studies, {patients:N0} patients, {seriesCount * (3 + extraTags.Length):N0} attribute rows) in {sw.Elapsed.TotalSeconds:F1} s: {dbPath}");
}

else
{
    // An index generated by an older build: bring its schema up to date (new indexes), with statistics as after generation.
    await using var db = new KaapanaDbContext(options);
    if ((await db.Database.GetPendingMigrationsAsync()).Any())
    {
        var sw = Stopwatch.StartNew();
        await db.Database.MigrateAsync();
        await db.Database.ExecuteSqlRawAsync("ANALYZE;");
        Console.WriteLine($"Migrated {dbPath} in {sw.Elapsed.TotalSeconds:F1} s");
    }
}

if (args.Length > 2 && args[2] == "sql")
{
    // Prints every statement with its time, for EXPLAIN QUERY PLAN work.
    options = new DbContextOptionsBuilder<KaapanaDbContext>().UseSqlite(cs)
        .LogTo(Console.WriteLine, [Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.CommandExecuted])
        .AddInterceptors(new QueryPlanPrinter()).Options;
}
// Queries run on connections set up as the server sets them (32 MiB page cache, pooled).
options = new DbContextOptionsBuilder<KaapanaDbContext>(options)
    .AddInterceptors(new SqliteDurabilityInterceptor(Kaapana.Core.Archive.ArchiveDurability.ProcessCrashSafe)).Options;
var factory = new Factory(options);
var queries = new BrowseQueries(factory);
var rand = new Random(1);
var times = new List<double>();
var cpuTimes = new List<double>();
var self = Process.GetCurrentProcess();
int lastCount = 0;
for (int i = -3; i < runs; i++) // three warm-up runs
{
    int from = 2006 + rand.Next(0, 12);
    var filter = new BrowseFilter { Project = "default", StudyDateFrom = $"{from}0101", StudyDateTo = $"{from + rand.Next(2, 8)}1231" }
        .Toggle("Modality", "CT").Toggle("Modality", rand.Next(2) == 0 ? "MR" : "PT")
        .Toggle("Manufacturer", manufacturers[rand.Next(manufacturers.Length)]).Toggle("Manufacturer", manufacturers[rand.Next(manufacturers.Length)])
        .Toggle("ProtocolName", protocols[rand.Next(protocols.Length)]).Toggle("ProtocolName", protocols[rand.Next(protocols.Length)])
        .Toggle("ProtocolName", protocols[rand.Next(protocols.Length)]);
    self.Refresh();
    var cpu0 = self.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    lastCount = await queries.CountAsync(filter, null);
    var page = await queries.PageAsync(filter, null, 0, 50);
    foreach (var keyword in filter.Facets.Keys) await queries.FacetAsync(filter, null, keyword, limit: 8);
    sw.Stop();
    self.Refresh();
    if (i >= 0)
    {
        times.Add(sw.Elapsed.TotalMilliseconds);
        cpuTimes.Add((self.TotalProcessorTime - cpu0).TotalMilliseconds);
    }
}
times.Sort();
cpuTimes.Sort();
static double Pct(List<double> xs, double q) => xs[Math.Min(xs.Count - 1, (int)Math.Ceiling(q * xs.Count) - 1)];
double P(double q) => Pct(times, q);
Console.WriteLine($"{seriesCount:N0} series, {runs} runs of count + page(50) + 3 facets, filter: 3 keywords (2-3 values each) + study date range; last count {lastCount:N0}");
Console.WriteLine($"wall: p50 {P(0.50):F1} ms, p95 {P(0.95):F1} ms, max {times[^1]:F1} ms");
// CPU time of this process (user + system) for the same work: what the wall time would be on an idle machine, minus I/O waits.
Console.WriteLine($"cpu:  p50 {Pct(cpuTimes, 0.50):F1} ms, p95 {Pct(cpuTimes, 0.95):F1} ms (load average now {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");

static SqliteCommand Prepare(SqliteConnection conn, SqliteTransaction tx, string sql, params string[] names)
{
    var cmd = conn.CreateCommand();
    cmd.Transaction = tx;
    cmd.CommandText = sql;
    foreach (var n in names) cmd.Parameters.Add(new SqliteParameter(n, null));
    cmd.Prepare();
    return cmd;
}

static void Run(SqliteCommand cmd, params object[] values)
{
    for (int i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i];
    cmd.ExecuteNonQuery();
}

static void Exec(SqliteConnection conn, SqliteTransaction tx, string sql)
{
    using var cmd = conn.CreateCommand();
    cmd.Transaction = tx;
    cmd.CommandText = sql;
    cmd.ExecuteNonQuery();
}

sealed class Factory(DbContextOptions<KaapanaDbContext> options) : IDbContextFactory<KaapanaDbContext>
{
    public KaapanaDbContext CreateDbContext() => new(options);
}

/// <summary>Prints SQLite's EXPLAIN QUERY PLAN of every query, run by the bundled SQLite with the same parameters.</summary>
sealed class QueryPlanPrinter : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
{
    public override ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(
        System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData,
        Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken ct = default)
    {
        using var plan = command.Connection!.CreateCommand();
        plan.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        foreach (SqliteParameter p in command.Parameters) plan.Parameters.Add(new SqliteParameter(p.ParameterName, p.Value));
        using var reader = plan.ExecuteReader();
        Console.WriteLine("QUERY PLAN");
        while (reader.Read()) Console.WriteLine($"  {reader.GetInt32(0),3} {reader.GetInt32(1),3} {reader.GetString(3)}");
        return ValueTask.FromResult(result);
    }
}
