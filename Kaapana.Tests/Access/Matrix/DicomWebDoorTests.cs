using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Kaapana.Dicom;
using Kaapana.Tests.Archive;
using Kaapana.Tests.DicomWeb;
using Microsoft.EntityFrameworkCore;
using static Kaapana.Tests.Access.Matrix.AccessMatrixFixture;

namespace Kaapana.Tests.Access.Matrix;

/// <summary>
/// DICOMweb (QIDO-RS, WADO-RS, STOW-RS), the rendered resources and the UI's thumbnails, for every role of the matrix: a
/// caller sees exactly the projects it belongs to; another project's study, series or instance answers as one that does
/// not exist (same status as a random UID, no secret in the body); storing needs Curate; an instance that reuses UIDs of
/// data the caller cannot see is refused alone and does not make that data visible. Data stored here is deleted again.
/// </summary>
[Collection(AccessMatrixCollection.Name)]
public sealed partial class DicomWebDoorTests(AccessMatrixFixture m)
{
    private const string Admin = TestCredentials.AdminUser, Anonymous = "anonymous";
    private const string DicomAccept = "multipart/related; type=\"application/dicom\"; transfer-syntax=*";
    private const string FrameAccept = "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*";

    public static TheoryData<string> Roles => [AlphaViewer, AlphaResearcher, AlphaProjectAdmin, BetaResearcher, Outsider, Admin, Anonymous];

    /// <summary>Roles that may not read beta, and those that may not read alpha: who asks about the other project.</summary>
    public static TheoryData<string, string> Strangers => new()
    {
        { AlphaViewer, "beta" }, { AlphaResearcher, "beta" }, { AlphaProjectAdmin, "beta" }, { Outsider, "beta" },
        { BetaResearcher, "alpha" }, { Outsider, "alpha" },
    };

    private HttpClient Client(string user) => user == Anonymous ? m.Anonymous() : m.As(user);

    private static bool Sees(string user, string project) => user switch
    {
        Admin => true,
        AlphaViewer or AlphaResearcher or AlphaProjectAdmin => project == "alpha",
        BetaResearcher => project == "beta",
        _ => false,
    };

    private ProjectData Project(string name) => name == "alpha" ? m.Alpha : m.Beta;

    private static string RandomUid() => "2.25." + Random.Shared.NextInt64(1, long.MaxValue) + Random.Shared.Next(1000, 9999);

    private static async Task<(HttpStatusCode Status, string Body, string? Type)> GetAsync(HttpClient http, string path, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var r = await http.SendAsync(request);
        var bytes = await r.Content.ReadAsByteArrayAsync();
        // Binary bodies (DICOM, images) are read as Latin-1 so a UID in them would still show in the leak check. The trace id
        // of a problem answer differs per request; it is not part of what is compared.
        var body = TraceId().Replace(System.Text.Encoding.Latin1.GetString(bytes), "");
        return (r.StatusCode, body, r.Content.Headers.ContentType?.MediaType);
    }

    [System.Text.RegularExpressions.GeneratedRegex("\"traceId\":\"[^\"]*\",?")]
    private static partial System.Text.RegularExpressions.Regex TraceId();

    private static List<string> Values(string json, string tag) =>
        JsonDocument.Parse(json).RootElement.EnumerateArray()
            .Select(e => e.TryGetProperty(tag, out var a) && a.TryGetProperty("Value", out var v) ? v[0].GetString() ?? "" : "").ToList();

    // ------------------------------------------------------------------ QIDO-RS

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Qido_at_every_level_lists_only_the_callers_projects(string user)
    {
        using var http = Client(user);
        foreach (var (level, tag) in new[] { ("studies", "0020000D"), ("series", "0020000E"), ("instances", "00080018") })
        {
            var door = "dicomweb/qido/" + level;
            var (status, body, _) = await GetAsync(http, $"/dicomweb/{level}?includefield=all&limit=1000");
            if (user == Anonymous)
            {
                AssertDenied(door, status, body, m.Beta, m.Alpha.Secrets, HttpStatusCode.Unauthorized);
                continue;
            }
            Assert.True(status == HttpStatusCode.OK, $"{door} as {user}: {(int)status} {body}");
            var uids = Values(body, tag);
            foreach (var p in new[] { m.Alpha, m.Beta })
            {
                IReadOnlyList<string> expected = level switch { "studies" => [p.StudyUid], "series" => p.SeriesUids, _ => p.SopUids };
                if (Sees(user, p.Name))
                {
                    Assert.All(expected, uid => Assert.Contains(uid, uids));
                    CountAllowed(door);
                }
                else AssertNoLeak(door, body, p);
            }
            if (user == Outsider) Assert.Empty(uids);
        }
    }

    [Theory]
    [MemberData(nameof(Strangers))]
    public async Task Qido_searches_for_the_other_projects_patient_and_uids_find_nothing(string user, string hiddenName)
    {
        var hidden = Project(hiddenName);
        var surname = hidden.PatientName.Split('^')[0];
        var series = hidden.SeriesUids[0];
        string[] queries =
        [
            $"/dicomweb/studies?PatientName={surname}*",
            $"/dicomweb/studies?PatientName={surname[..4].ToLowerInvariant()}&fuzzymatching=true",
            $"/dicomweb/studies?PatientID={hidden.PatientId}",
            $"/dicomweb/studies?StudyInstanceUID={hidden.StudyUid}&includefield=all",
            $"/dicomweb/series?SeriesInstanceUID={series}",
            $"/dicomweb/series?PatientName={surname}*",
            $"/dicomweb/instances?SOPInstanceUID={hidden.SopUids[0]}",
            $"/dicomweb/instances?PatientID={hidden.PatientId}",
            $"/dicomweb/studies/{hidden.StudyUid}/series",
            $"/dicomweb/studies/{hidden.StudyUid}/instances",
            $"/dicomweb/studies/{hidden.StudyUid}/series/{series}/instances",
        ];
        using var http = m.As(user);
        using var admin = m.As(Admin);
        foreach (var q in queries)
        {
            var (status, body, _) = await GetAsync(http, q);
            Assert.True(status == HttpStatusCode.OK, $"{q} as {user}: {(int)status} {body}");
            AssertNothingFound("dicomweb/qido/search", JsonDocument.Parse(body).RootElement.GetArrayLength(), body, hidden);
            // The same question about something that does not exist gets the same answer...
            var missing = q.Replace(hidden.StudyUid, RandomUid()).Replace(series, RandomUid()).Replace(hidden.SopUids[0], RandomUid())
                .Replace(hidden.PatientId, "NO-SUCH-PID").Replace(surname, "Zzyzx").Replace(surname[..4].ToLowerInvariant(), "zzyz");
            var (missingStatus, missingBody, _) = await GetAsync(http, missing);
            Assert.Equal((missingStatus, missingBody), (status, body));
            // ...while the data is there: the admin finds it.
            var (adminStatus, adminBody, _) = await GetAsync(admin, q);
            Assert.True(adminStatus == HttpStatusCode.OK && JsonDocument.Parse(adminBody).RootElement.GetArrayLength() > 0, $"{q} as admin: {adminBody}");
        }
    }

    // ------------------------------------------------------------------ WADO-RS, rendered, thumbnails

    /// <summary>A resource of one project's data: its path, Accept, and how an allowed answer is checked.</summary>
    private sealed record Resource(string Door, string Path, string? Accept, Action<string, string?> Check);

    private static IEnumerable<Resource> Resources(ProjectData p)
    {
        string study = $"/dicomweb/studies/{p.StudyUid}", series = $"{study}/series/{p.SeriesUids[0]}";
        var seriesSops = p.SopUids.Where(s => InSeries(p, s, p.SeriesUids[0])).ToList();
        var sop = seriesSops[0];
        string instance = $"{series}/instances/{sop}";
        Action<string, string?> parts(IEnumerable<string> sops) => (body, type) =>
        {
            Assert.Equal("multipart/related", type);
            Assert.All(sops, s => Assert.Contains(s, body));
        };
        Action<string, string?> json(IEnumerable<string> sops, int count) => (body, _) =>
        {
            Assert.Equal(count, JsonDocument.Parse(body).RootElement.GetArrayLength());
            Assert.All(sops, s => Assert.Contains(s, body));
        };
        Action<string, string?> image(string mediaType) => (_, type) => Assert.Equal(mediaType, type);
        return
        [
            new("dicomweb/wado/study", study, DicomAccept, parts(p.SopUids)),
            new("dicomweb/wado/series", series, DicomAccept, parts(seriesSops)),
            new("dicomweb/wado/instance", instance, DicomAccept, parts([sop])),
            new("dicomweb/wado/metadata", study + "/metadata", "application/dicom+json", json(p.SopUids, p.SopUids.Count)),
            new("dicomweb/wado/metadata", series + "/metadata", "application/dicom+json", json(seriesSops, seriesSops.Count)),
            new("dicomweb/wado/metadata", instance + "/metadata", "application/dicom+json", json([sop], 1)),
            new("dicomweb/wado/frames", instance + "/frames/1", FrameAccept, (_, type) => Assert.Equal("multipart/related", type)),
            new("dicomweb/wado/bulkdata", instance + "/bulkdata/7FE00010", FrameAccept, (_, type) => Assert.Equal("multipart/related", type)),
            new("dicomweb/wado/rendered", study + "/rendered", "image/jpeg", image("image/jpeg")),
            new("dicomweb/wado/rendered", instance + "/rendered", "image/jpeg", image("image/jpeg")),
            new("dicomweb/wado/rendered", instance + "/frames/1/rendered", "image/png", image("image/png")),
            new("dicomweb/wado/thumbnail", series + "/thumbnail", "image/jpeg", image("image/jpeg")),
            new("api/series/thumbnail", $"/api/series/{p.SeriesUids[0]}/thumbnail", null, image("image/png")),
        ];
    }

    private static bool InSeries(ProjectData p, string sop, string series)
    {
        var file = p.Files.Single(f => Path.GetFileNameWithoutExtension(f) == sop);
        return DicomFile.Open(file).Dataset.GetString(DicomTags.SeriesInstanceUID) == series;
    }

    /// <summary>The path with the project's UIDs replaced by random ones: what a nonexistent resource answers.</summary>
    private static string Nonexistent(string path, ProjectData p)
    {
        foreach (var uid in p.SopUids.Concat(p.SeriesUids).Append(p.StudyUid)) path = path.Replace(uid, RandomUid());
        return path;
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Wado_rendered_and_thumbnails_serve_the_callers_projects_and_answer_others_as_nonexistent(string user)
    {
        using var http = Client(user);
        foreach (var p in new[] { m.Alpha, m.Beta })
        {
            foreach (var r in Resources(p))
            {
                var (status, body, type) = await GetAsync(http, r.Path, r.Accept);
                if (Sees(user, p.Name))
                {
                    Assert.True(status == HttpStatusCode.OK, $"{r.Path} as {user}: {(int)status} {body[..Math.Min(300, body.Length)]}");
                    r.Check(body, type);
                    CountAllowed(r.Door);
                    continue;
                }
                var (missingStatus, missingBody, _) = await GetAsync(http, Nonexistent(r.Path, p), r.Accept);
                AssertDenied(r.Door, status, body, p, allowed: user == Anonymous ? HttpStatusCode.Unauthorized : HttpStatusCode.NotFound);
                Assert.Equal(missingStatus, status);
                Assert.Equal(missingBody, body);
            }
        }
    }

    [Fact]
    public async Task Opening_a_study_is_audited_once_per_user_and_study_not_per_request()
    {
        // Several reads of one study, as a viewer makes them: metadata per series, frames, the study again.
        using var http = m.As(AlphaViewer);
        var a = m.Alpha;
        foreach (var path in new[] { $"/dicomweb/studies/{a.StudyUid}/series/{a.SeriesUids[0]}/metadata", $"/dicomweb/studies/{a.StudyUid}/series/{a.SeriesUids[1]}/metadata",
                     $"/dicomweb/studies/{a.StudyUid}/metadata" })
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, path, "application/dicom+json")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, $"/dicomweb/studies/{a.StudyUid}", DicomAccept)).Status);
        // A refused read opens nothing.
        using (var beta = m.As(BetaResearcher))
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(beta, $"/dicomweb/studies/{a.StudyUid}/metadata", "application/dicom+json")).Status);

        using var admin = m.Server.CreateClient();
        var (items, _) = await AuditTrailPoll.WaitAsync(admin, "action=study.opened&target=" + a.StudyUid,
            list => list.Any(e => e.GetProperty("actor").GetString() == AlphaViewer), () => m.Server.Output);
        Assert.Single(items, e => e.GetProperty("actor").GetString() == AlphaViewer);
        Assert.DoesNotContain(items, e => e.GetProperty("actor").GetString() == BetaResearcher);
        Assert.All(items, e => Assert.Equal("study:" + a.StudyUid, e.GetProperty("target").GetString()));
        CountAllowed("dicomweb/wado/metadata");

        // A client that reads only frames (no metadata first) opens the study too.
        string study = TestInstances.NewUid(), series = TestInstances.NewUid(), sop = TestInstances.NewUid();
        try
        {
            using var storer = m.As(Admin);
            var stored = await StowClient.PostAsync(storer, "/dicomweb/studies?project=alpha",
                StowClient.Body(TestInstances.Create(new("AUDIT-1", "Audit^Frames", study, series, sop))));
            Assert.Equal(HttpStatusCode.OK, stored.Status);
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, $"/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1", FrameAccept)).Status);
            await AuditTrailPoll.WaitAsync(admin, "action=study.opened&target=" + study,
                list => list.Any(e => e.GetProperty("actor").GetString() == AlphaViewer), () => m.Server.Output);
            CountAllowed("dicomweb/wado/frames");
        }
        finally
        {
            await DeleteSeriesAsync(series);
        }
    }

    // ------------------------------------------------------------------ STOW-RS

    /// <summary>Who may store into which project, and what a refusal looks like (400 = as an unknown project, 403 = visible but no Curate).</summary>
    public static TheoryData<string, string, HttpStatusCode> StowCases => new()
    {
        { AlphaViewer, "alpha", HttpStatusCode.Forbidden }, { AlphaViewer, "beta", HttpStatusCode.BadRequest },
        { AlphaResearcher, "alpha", HttpStatusCode.OK }, { AlphaResearcher, "beta", HttpStatusCode.BadRequest },
        { AlphaProjectAdmin, "alpha", HttpStatusCode.OK }, { AlphaProjectAdmin, "beta", HttpStatusCode.BadRequest },
        { BetaResearcher, "beta", HttpStatusCode.OK }, { BetaResearcher, "alpha", HttpStatusCode.BadRequest },
        { Outsider, "alpha", HttpStatusCode.BadRequest }, { Outsider, "beta", HttpStatusCode.BadRequest },
        { Admin, "alpha", HttpStatusCode.OK }, { Admin, "beta", HttpStatusCode.OK },
        { Anonymous, "alpha", HttpStatusCode.Unauthorized },
    };

    [Theory]
    [MemberData(nameof(StowCases))]
    public async Task Stow_needs_Curate_in_the_target_project(string user, string project, HttpStatusCode expected)
    {
        var series = TestInstances.NewUid();
        var bytes = TestInstances.Create(new TestInstances.Spec("STOW-" + user, "Stow^Matrix", TestInstances.NewUid(), series, TestInstances.NewUid()));
        var sop = DicomFile.Read(new MemoryStream(bytes)).Dataset.GetString(DicomTags.SOPInstanceUID);
        using var http = Client(user);
        var answer = await StowClient.PostAsync(http, $"/dicomweb/studies?project={project}", StowClient.Body(bytes));
        try
        {
            if (expected == HttpStatusCode.OK)
            {
                Assert.True(answer.Status == HttpStatusCode.OK && answer.Stored.Count == 1, $"STOW as {user} into {project}: {answer}");
                // Stored where it was sent, and readable by the one who sent it.
                var study = DicomFile.Read(new MemoryStream(bytes)).Dataset.GetString(DicomTags.StudyInstanceUID);
                Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, $"/dicomweb/studies/{study}/metadata", "application/dicom+json")).Status);
                await using var db = m.Server.OpenIndex();
                Assert.True(await db.ProjectSeries.AnyAsync(ps => ps.Series.SeriesInstanceUID == series && ps.ProjectId == Project(project).ProjectId));
                // Audited as one summary per request.
                using var admin = m.Server.CreateClient();
                await AuditTrailPoll.WaitAsync(admin, $"action=dicomweb.store&actor={user}&target=project:{project}", list => list.Any(e =>
                    e.GetProperty("outcome").GetString() == "success" && e.GetProperty("details").ToString().Contains(study)), () => m.Server.Output);
                CountAllowed("dicomweb/stow");
                return;
            }
            var other = project == "alpha" ? m.Beta : m.Alpha;
            AssertDenied("dicomweb/stow", answer.Status, answer.Body, other, allowed: expected);
            if (expected == HttpStatusCode.BadRequest)
            {
                // Exactly what a project that does not exist gets.
                var missing = await StowClient.PostAsync(http, "/dicomweb/studies?project=no-such-project", StowClient.Body(bytes));
                Assert.Equal(missing.Status, answer.Status);
                Assert.Equal(TraceId().Replace(missing.Body, "").Replace("no-such-project", project), TraceId().Replace(answer.Body, ""));
            }
            await using var index = m.Server.OpenIndex();
            Assert.Equal(0, await index.Instances.CountAsync(i => i.SOPInstanceUID == sop));
        }
        finally
        {
            await DeleteSeriesAsync(series);
        }
    }

    [Fact]
    public async Task Stow_without_a_project_needs_Curate_in_the_default_project_and_refusals_are_audited()
    {
        var bytes = TestInstances.Single(out var sop);
        using var http = m.As(AlphaResearcher);
        var answer = await StowClient.PostAsync(http, "/dicomweb/studies", StowClient.Body(bytes));
        AssertDenied("dicomweb/stow", answer.Status, answer.Body, m.Beta, allowed: HttpStatusCode.Forbidden);
        await using (var db = m.Server.OpenIndex())
            Assert.Equal(0, await db.Instances.CountAsync(i => i.SOPInstanceUID == sop));
        using var admin = m.Server.CreateClient();
        await AuditTrailPoll.WaitAsync(admin, "action=dicomweb.store&actor=" + AlphaResearcher,
            list => list.Any(e => e.GetProperty("outcome").GetString() == "denied"), () => m.Server.Output);
    }

    /// <summary>Instances an alpha researcher builds from beta's UIDs (beta's study, series or instance) and sends into alpha.</summary>
    public static TheoryData<string> Impostors =>
        ["beta's own file", "a new instance in beta's series", "beta's series UID in a new study", "a new series in beta's study", "beta's instance UID in a new series"];

    [Theory]
    [MemberData(nameof(Impostors))]
    public async Task Stow_of_an_instance_reusing_another_projects_uids_is_refused_and_reveals_nothing(string kind)
    {
        var b = m.Beta;
        var betaFile = DicomFile.Open(b.Files[0]).Dataset;
        string betaSeries = betaFile.GetString(DicomTags.SeriesInstanceUID), newSop = TestInstances.NewUid(), newSeries = TestInstances.NewUid();
        byte[] bytes = kind switch
        {
            "beta's own file" => await File.ReadAllBytesAsync(b.Files[0]),
            "a new instance in beta's series" => TestInstances.Create(new("ALPHA-FAKE", "Fake^A", b.StudyUid, betaSeries, newSop)),
            "beta's series UID in a new study" => TestInstances.Create(new("ALPHA-FAKE", "Fake^A", TestInstances.NewUid(), betaSeries, newSop)),
            "a new series in beta's study" => TestInstances.Create(new("ALPHA-FAKE", "Fake^A", b.StudyUid, newSeries, newSop)),
            _ => TestInstances.Create(new("ALPHA-FAKE", "Fake^A", TestInstances.NewUid(), newSeries, betaFile.GetString(DicomTags.SOPInstanceUID))),
        };
        var sent = DicomFile.Read(new MemoryStream(bytes)).Dataset.GetString(DicomTags.SOPInstanceUID);
        using var http = m.As(AlphaResearcher);
        var answer = await StowClient.PostAsync(http, "/dicomweb/studies?project=alpha", StowClient.Body(bytes));
        try
        {
            Assert.True(answer.Status == HttpStatusCode.Conflict && answer.Stored.Count == 0 && answer.Failed.Count == 1, $"{kind}: {answer}");
            var failed = answer.Failed[0];
            Assert.Equal(0x0124, failed.FailureReason);
            Assert.Contains("conflicts with existing data", failed.Reason);
            Assert.Equal(sent, failed.SopInstanceUid);
            // Nothing of beta beyond what the caller sent itself (the SOP Instance UID of the part) is in the answer.
            AssertNoLeak("dicomweb/stow", answer.Body.Replace(sent, ""), b);

            await using (var db = m.Server.OpenIndex())
            {
                Assert.False(await db.ProjectSeries.AnyAsync(ps => ps.Series.SeriesInstanceUID == betaSeries && ps.ProjectId == m.Alpha.ProjectId),
                    "beta's series was linked to alpha");
                if (kind.StartsWith("beta's", StringComparison.Ordinal) && kind != "beta's series UID in a new study")
                {
                    // Beta's instance is untouched: still one row, in beta's series, with beta's file.
                    var row = await db.Instances.Where(i => i.SOPInstanceUID == sent).Select(i => new { i.Series.SeriesInstanceUID, i.ContentHash }).SingleAsync();
                    Assert.Equal(betaSeries, row.SeriesInstanceUID);
                }
                else Assert.Equal(0, await db.Instances.CountAsync(i => i.SOPInstanceUID == sent));
                Assert.Equal(0, await db.Series.CountAsync(se => se.SeriesInstanceUID == newSeries));
            }
            // Beta's data stays out of sight.
            var (status, body, _) = await GetAsync(http, $"/dicomweb/studies/{b.StudyUid}/series/{betaSeries}/metadata", "application/dicom+json");
            AssertDenied("dicomweb/wado/metadata", status, body, b, allowed: HttpStatusCode.NotFound);
            var (qs, qbody, _) = await GetAsync(http, $"/dicomweb/series?SeriesInstanceUID={betaSeries}");
            Assert.Equal(HttpStatusCode.OK, qs);
            Assert.Equal("[]", qbody.Trim());
            AssertDenied("dicomweb/stow", answer.Status, answer.Body.Replace(sent, ""), b, allowed: HttpStatusCode.Conflict);
        }
        finally
        {
            await DeleteSeriesAsync(newSeries);
        }
    }

    [Fact]
    public async Task Stow_of_the_callers_own_instance_again_stays_an_idempotent_success()
    {
        using var http = m.As(AlphaResearcher);
        var answer = await StowClient.PostAsync(http, "/dicomweb/studies?project=alpha", StowClient.Body(await File.ReadAllBytesAsync(m.Alpha.Files[0])));
        Assert.True(answer.Status == HttpStatusCode.OK && answer.Stored.Count == 1, answer.ToString());
        CountAllowed("dicomweb/stow");
    }

    // ------------------------------------------------------------------ a study in two projects

    [Fact]
    public async Task A_study_in_two_projects_shows_each_member_only_its_projects_series_counts_and_modalities()
    {
        string study = TestInstances.NewUid(), alphaSeries = TestInstances.NewUid(), betaSeries = TestInstances.NewUid();
        string alphaSop = TestInstances.NewUid(), betaSop = TestInstances.NewUid(), betaSop2 = TestInstances.NewUid();
        using var admin = m.As(Admin);
        try
        {
            var a = await StowClient.PostAsync(admin, "/dicomweb/studies?project=alpha",
                StowClient.Body(TestInstances.Create(new("SHARED-1", "Shared^Pat", study, alphaSeries, alphaSop, Modality: "CT"))));
            var b = await StowClient.PostAsync(admin, "/dicomweb/studies?project=beta", StowClient.Body(
                TestInstances.Create(new("SHARED-1", "Shared^Pat", study, betaSeries, betaSop, Modality: "MR", SeriesNumber: 2)),
                TestInstances.Create(new("SHARED-1", "Shared^Pat", study, betaSeries, betaSop2, Modality: "MR", SeriesNumber: 2, InstanceNumber: 2))));
            Assert.True(a.Status == HttpStatusCode.OK && b.Status == HttpStatusCode.OK, $"{a}\n{b}");
            string[] betaSecrets = [betaSeries, betaSop, betaSop2];

            using var alpha = m.As(AlphaResearcher);
            var (_, studies, _) = await GetAsync(alpha, $"/dicomweb/studies?StudyInstanceUID={study}&includefield=all");
            var row = JsonDocument.Parse(studies).RootElement.EnumerateArray().Single();
            Assert.Equal("1", row.GetProperty("00201206").GetProperty("Value")[0].ToString()); // Number of Study Related Series
            Assert.Equal("1", row.GetProperty("00201208").GetProperty("Value")[0].ToString()); // Number of Study Related Instances
            Assert.Equal(["CT"], row.GetProperty("00080061").GetProperty("Value").EnumerateArray().Select(v => v.GetString()));
            // A modality only beta's series has does not find the study for alpha.
            Assert.Equal("[]", (await GetAsync(alpha, $"/dicomweb/studies?StudyInstanceUID={study}&ModalitiesInStudy=MR")).Body.Trim());
            // The patient counts only what alpha sees, too.
            var (_, patientStudies, _) = await GetAsync(alpha, $"/dicomweb/studies?PatientID=SHARED-1&includefield=00201200,00201202,00201204");
            var patient = JsonDocument.Parse(patientStudies).RootElement.EnumerateArray().Single();
            foreach (var tag in new[] { "00201200", "00201202", "00201204" })
                Assert.Equal("1", patient.GetProperty(tag).GetProperty("Value")[0].ToString());

            foreach (var (path, accept) in new[]
                     {
                         ($"/dicomweb/studies/{study}/series", (string?)null), ($"/dicomweb/studies/{study}/instances", null),
                         ($"/dicomweb/studies/{study}", DicomAccept), ($"/dicomweb/studies/{study}/metadata", "application/dicom+json"),
                     })
            {
                var (status, body, _) = await GetAsync(alpha, path, accept);
                Assert.True(status == HttpStatusCode.OK && body.Contains(alphaSop) || path.EndsWith("/series") && body.Contains(alphaSeries), $"{path}: {(int)status}");
                AssertNoLeak("dicomweb/shared-study", body, m.Beta, betaSecrets);
                CountAllowed("dicomweb/shared-study");
            }
            var (hiddenStatus, hiddenBody, _) = await GetAsync(alpha, $"/dicomweb/studies/{study}/series/{betaSeries}", DicomAccept);
            var (missingStatus, missingBody, _) = await GetAsync(alpha, $"/dicomweb/studies/{study}/series/{RandomUid()}", DicomAccept);
            Assert.Equal((missingStatus, missingBody), (hiddenStatus, hiddenBody));
            AssertDenied("dicomweb/shared-study", hiddenStatus, hiddenBody, m.Beta, betaSecrets, HttpStatusCode.NotFound);

            // The admin sees the whole study.
            var (_, all, _) = await GetAsync(admin, $"/dicomweb/studies?StudyInstanceUID={study}&includefield=all");
            var whole = JsonDocument.Parse(all).RootElement.EnumerateArray().Single();
            Assert.Equal("2", whole.GetProperty("00201206").GetProperty("Value")[0].ToString());
            Assert.Equal("3", whole.GetProperty("00201208").GetProperty("Value")[0].ToString());

            // Beta's member: its two instances, not alpha's.
            using var beta = m.As(BetaResearcher);
            var (_, betaStudies, _) = await GetAsync(beta, $"/dicomweb/studies?StudyInstanceUID={study}&includefield=all");
            var betaRow = JsonDocument.Parse(betaStudies).RootElement.EnumerateArray().Single();
            Assert.Equal("2", betaRow.GetProperty("00201208").GetProperty("Value")[0].ToString());
            var (_, betaMeta, _) = await GetAsync(beta, $"/dicomweb/studies/{study}/metadata", "application/dicom+json");
            Assert.DoesNotContain(alphaSop, betaMeta);
            Assert.DoesNotContain(alphaSeries, betaStudies + betaMeta);
        }
        finally
        {
            await DeleteSeriesAsync(alphaSeries);
            await DeleteSeriesAsync(betaSeries);
        }
    }

    private async Task DeleteSeriesAsync(string seriesUid)
    {
        using var admin = m.Server.CreateClient();
        using var r = await admin.DeleteAsync($"/api/series/{seriesUid}");
        Assert.True(r.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotFound, $"DELETE /api/series/{seriesUid}: {(int)r.StatusCode}");
    }
}
