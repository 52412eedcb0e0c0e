using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Kaapana.Core.Auth;
using Kaapana.Dicom;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Auth;
using Kaapana.Tests.Interop;

namespace Kaapana.Tests.Access.Matrix;

/// <summary>
/// One real server for the door × role matrix of issue 9. Two projects, each fed through its own receiving endpoint by
/// <c>storescu</c>: <c>alpha</c> (ALPHA_AE) and <c>beta</c> (BETA_AE), one patient, one study, two series of two instances
/// each. Users (HTTP Basic, <see cref="Password"/>), all site role Researcher except the admin:
/// <list type="bullet">
/// <item><c>alpha-viewer</c>, <c>alpha-researcher</c>, <c>alpha-padmin</c>: Viewer / Researcher / ProjectAdmin in alpha;</item>
/// <item><c>beta-researcher</c>: Researcher in beta only;</item>
/// <item><c>outsider</c>: signed in, member of nothing.</item>
/// </list>
/// Memberships are set through <c>PUT /api/projects/{p}/members</c> as the admin. Denied cases assert with
/// <see cref="AssertDenied"/>, which also checks that nothing of the other project (<see cref="Beta"/>/<see cref="Alpha"/>
/// secrets: names, IDs, UIDs) is in the answer, and counts them for the closing note (<c>TestResults/access-matrix.txt</c>).
/// </summary>
public sealed class AccessMatrixFixture : IAsyncLifetime
{
    public const string Password = "Matrix-pw-2026!";
    public const string AlphaViewer = "alpha-viewer", AlphaResearcher = "alpha-researcher", AlphaProjectAdmin = "alpha-padmin";
    public const string BetaResearcher = "beta-researcher", Outsider = "outsider";

    private static int s_denied, s_allowed;
    private static readonly HashSet<string> s_doors = [];

    public string Root { get; } = Directory.CreateTempSubdirectory("kaapana-matrix-").FullName;
    public KaapanaServer Server { get; private set; } = null!;
    public AccountStore Accounts { get; private set; } = null!;
    public ProjectData Alpha { get; private set; } = null!;
    public ProjectData Beta { get; private set; } = null!;
    public IReadOnlyDictionary<string, string> UserIds { get; private set; } = new Dictionary<string, string>();
    public string Port => Server.DicomPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>What was stored into one project, for queries and leak checks.</summary>
    public sealed record ProjectData(string Name, string AETitle, int ProjectId, string PatientId, string PatientName, string StudyUid,
        IReadOnlyList<string> SeriesUids, IReadOnlyList<string> SopUids, IReadOnlyList<string> Files)
    {
        /// <summary>Strings that must never appear in an answer to someone who may not see this project.</summary>
        public IEnumerable<string> Secrets => [PatientId, PatientName.Split('^')[0], StudyUid, .. SeriesUids, .. SopUids];
    }

    public async Task InitializeAsync()
    {
        var data = Path.Combine(Root, "data");
        Directory.CreateDirectory(data);
        Server = await KaapanaServer.StartAsync(data, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development", // MudBlazor's static files from build output (FIELD-NOTES)
            ["Kaapana__Viewer__Enabled"] = "false",
            ["Kaapana__Archive__ReceivingEndpoints__0__AETitle"] = "ALPHA_AE",
            ["Kaapana__Archive__ReceivingEndpoints__0__Project"] = "alpha",
            ["Kaapana__Archive__ReceivingEndpoints__1__AETitle"] = "BETA_AE",
            ["Kaapana__Archive__ReceivingEndpoints__1__Project"] = "beta",
        });
        Accounts = new AccountStore(Server.IndexPath);
        var ids = new Dictionary<string, string>();
        foreach (var user in new[] { AlphaViewer, AlphaResearcher, AlphaProjectAdmin, BetaResearcher, Outsider })
            ids[user] = await Accounts.CreateAsync(user, Password, KaapanaRoles.Researcher);
        UserIds = ids;

        Alpha = await StoreAsync("alpha", "ALPHA_AE", "Alphonse^P");
        Beta = await StoreAsync("beta", "BETA_AE", "Bertram^P");

        using var admin = Server.CreateClient();
        foreach (var (project, user, role) in new[]
                 {
                     ("alpha", AlphaViewer, "Viewer"), ("alpha", AlphaResearcher, "Researcher"), ("alpha", AlphaProjectAdmin, "ProjectAdmin"),
                     ("beta", BetaResearcher, "Researcher"),
                 })
        {
            using var r = await admin.PutAsJsonAsync($"/api/projects/{project}/members", new { userName = user, role });
            Assert.True(r.StatusCode == HttpStatusCode.NoContent, $"membership {user} in {project}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }
    }

    private async Task<ProjectData> StoreAsync(string project, string ae, string namePrefix)
    {
        var folder = Path.Combine(Root, project);
        var files = DicomReceiverTests.Generate(folder, 1, 1, 2, 2, namePrefix: namePrefix);
        var r = await DicomTools.RunAsync("storescu", "-v", "-aec", ae, "+sd", "127.0.0.1", Port, folder);
        Assert.True(r.ExitCode == 0 && DicomReceiverTests.CountSuccess(r.Output) == files.Count, $"storescu to {ae}: {r}");
        var sets = files.Select(f => DicomFile.Open(f).Dataset).ToList();
        using var admin = Server.CreateClient();
        var projects = await admin.GetFromJsonAsync<List<ProjectDto>>("/api/projects");
        var id = projects!.Single(p => p.Name == project).Id;
        return new ProjectData(project, ae, id, sets[0].GetString(DicomTags.PatientID), sets[0].GetString(DicomTags.PatientName),
            sets[0].GetString(DicomTags.StudyInstanceUID),
            sets.Select(s => s.GetString(DicomTags.SeriesInstanceUID)).Distinct().ToList(),
            sets.Select(s => s.GetString(DicomTags.SOPInstanceUID)).ToList(), files);
    }

    private sealed record ProjectDto(int Id, string Name);

    /// <summary>A client signed in (HTTP Basic) as one of the matrix users, or as the admin for <see cref="TestCredentials.AdminUser"/>.</summary>
    public HttpClient As(string user)
    {
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var password = user == TestCredentials.AdminUser ? TestCredentials.AdminPassword : Password;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }

    /// <summary>No credentials, no redirects followed.</summary>
    public HttpClient Anonymous() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>
    /// A denied case: the status is one of <paramref name="allowed"/> (default 401, 403, 404) and the body holds none of the
    /// hidden project's secrets (nor any of <paramref name="extraSecrets"/>). Counted per door for the closing note.
    /// </summary>
    public static void AssertDenied(string door, HttpStatusCode status, string body, ProjectData hidden, IEnumerable<string>? extraSecrets = null,
        params HttpStatusCode[] allowed)
    {
        HttpStatusCode[] ok = allowed.Length > 0 ? allowed : [HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden, HttpStatusCode.NotFound];
        Assert.True(ok.Contains(status), $"{door}: expected {string.Join("/", ok.Select(s => (int)s))}, got {(int)status}: {Trim(body)}");
        AssertNoLeak(door, body, hidden, extraSecrets);
        Interlocked.Increment(ref s_denied);
        lock (s_doors) s_doors.Add(door);
    }

    /// <summary>An answer that may succeed (e.g. an empty QIDO result) but must not mention the hidden project; counted as denied.</summary>
    public static void AssertNoLeak(string door, string body, ProjectData hidden, IEnumerable<string>? extraSecrets = null)
    {
        foreach (var secret in hidden.Secrets.Concat(extraSecrets ?? []))
            Assert.False(body.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{door}: the answer leaks '{secret}' of project {hidden.Name}: {Trim(body)}");
    }

    /// <summary>An allowed case (counted for the note).</summary>
    public static void CountAllowed(string door)
    {
        Interlocked.Increment(ref s_allowed);
        lock (s_doors) s_doors.Add(door);
    }

    private static string Trim(string s) => s.Length > 400 ? s[..400] + "…" : s;

    public async Task DisposeAsync()
    {
        try
        {
            var results = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "TestResults");
            Directory.CreateDirectory(results);
            string doors;
            lock (s_doors) doors = string.Join(", ", s_doors.Order());
            await File.WriteAllTextAsync(Path.Combine(results, "access-matrix.txt"),
                $"denied cases without leak: {s_denied}\nallowed cases: {s_allowed}\ndoors: {doors}\n");
        }
        catch (IOException) { }
        if (Accounts is not null) await Accounts.DisposeAsync();
        if (Server is not null) await Server.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class AccessMatrixCollection : ICollectionFixture<AccessMatrixFixture>
{
    public const string Name = "access-matrix";
}
