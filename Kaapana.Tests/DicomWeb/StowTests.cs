using Xunit.Abstractions;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Kaapana.Core.Archive.Index;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Server;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.DicomWeb;

/// <summary>One server (own data folder; endpoint LUNG_STUDY -> project "lung", so that project exists) shared by the STOW-RS tests.</summary>
public sealed class StowServerFixture() : DicomWebServerFixture("stow")
{
    protected override IDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Kaapana__Archive__ReceivingEndpoints__0__AETitle"] = "LUNG_STUDY",
        ["Kaapana__Archive__ReceivingEndpoints__0__Project"] = "lung",
        ["Kaapana__Archive__ReceivingEndpoints__0__Dataset"] = "cohort",
    };

    protected override TimeSpan HttpTimeout => TimeSpan.FromMinutes(5);
}

/// <summary>STOW-RS (PS3.18 10.5) at /dicomweb/studies against the real server process.</summary>
public sealed class StowTests(StowServerFixture fixture, ITestOutputHelper output) : IClassFixture<StowServerFixture>
{
    private const string PydicomFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
    private KaapanaServer Server => fixture.Server;
    private HttpClient Http => fixture.Http;

    private sealed record Row(string Sop, string Study, string StoragePath, IngestSource Source, string? PeerAddress);

    private async Task<Dictionary<string, Row>> IndexAsync(KaapanaServer server)
    {
        await using var db = server.OpenIndex();
        return (await db.Instances.AsNoTracking()
                .Select(i => new { i.SOPInstanceUID, i.Series.Study.StudyInstanceUID, i.StoragePath, i.Source, i.PeerAddress }).ToListAsync())
            .ToDictionary(r => r.SOPInstanceUID, r => new Row(r.SOPInstanceUID, r.StudyInstanceUID, r.StoragePath, r.Source, r.PeerAddress));
    }

    private static async Task<HashSet<string>> ProjectSopsAsync(KaapanaServer server, string project)
    {
        await using var db = server.OpenIndex();
        var projectId = await db.Projects.Where(p => p.Name == project).Select(p => p.Id).SingleAsync();
        return (await db.Instances.Where(i => db.ProjectSeries.Any(ps => ps.ProjectId == projectId && ps.SeriesId == i.SeriesId))
            .Select(i => i.SOPInstanceUID).ToListAsync()).ToHashSet();
    }

    private static byte[] NewInstance(string study, out string sop, int size = 16)
    {
        sop = TestInstances.NewUid();
        return TestInstances.Create(new TestInstances.Spec("PID-STOW", "Stow^Test", study, TestInstances.NewUid(), sop, Size: size));
    }

    private static byte[] Multipart(string boundary, IEnumerable<byte[]> parts, bool close = true)
    {
        var ms = new MemoryStream();
        foreach (var p in parts)
        {
            ms.Write(Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n"));
            ms.Write(p);
            ms.Write("\r\n"u8);
        }
        if (close) ms.Write(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        return ms.ToArray();
    }

    private static ByteArrayContent Raw(byte[] body, string? contentType)
    {
        var c = new ByteArrayContent(body);
        if (contentType is not null) c.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return c;
    }

    private static string Detail(StowClient.Answer a)
    {
        using var json = JsonDocument.Parse(a.Body);
        return json.RootElement.GetProperty("detail").GetString() ?? "";
    }

    [Fact]
    public async Task All_pydicom_samples_store_exactly_what_the_upload_api_accepts_byte_identical()
    {
        Assert.True(Directory.Exists(PydicomFiles), $"{PydicomFiles} missing: install the Debian package 'python3-pydicom'.");
        var files = Directory.EnumerateFiles(PydicomFiles, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count > 100, $"only {files.Count} sample files found");
        var bytes = files.Select(File.ReadAllBytes).ToList();

        // The oracle: the same files through /api/uploads on a second, fresh server (same ingest rules, another door).
        var oracleRoot = Directory.CreateTempSubdirectory("kaapana-stow-oracle-").FullName;
        List<(bool Accepted, string? Sop)> verdicts;
        HashSet<string> oracleIndex;
        try
        {
            await using (var oracle = await KaapanaServer.StartAsync(Directory.CreateDirectory(Path.Combine(oracleRoot, "data")).FullName))
            {
                using var http = oracle.CreateClient(TimeSpan.FromMinutes(5));
                using var form = new MultipartFormDataContent();
                for (int i = 0; i < files.Count; i++)
                    form.Add(new ByteArrayContent(bytes[i]) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } }, "files", $"f{i}.dcm");
                using var upload = await http.PostAsync("/api/uploads", form);
                var uploadBody = await upload.Content.ReadAsStringAsync();
                Assert.True(upload.StatusCode == HttpStatusCode.MultiStatus, $"upload oracle: {upload.StatusCode} {uploadBody}");
                using var json = JsonDocument.Parse(uploadBody);
                verdicts = json.RootElement.GetProperty("files").EnumerateArray()
                    .Select(f => (f.GetProperty("status").GetString() is "stored" or "duplicate",
                        f.TryGetProperty("sopInstanceUid", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null))
                    .ToList();
                oracleIndex = (await IndexAsync(oracle)).Keys.ToHashSet();
            }
        }
        finally
        {
            Directory.Delete(oracleRoot, recursive: true);
        }
        Assert.Equal(files.Count, verdicts.Count);
        int accepted = verdicts.Count(v => v.Accepted);
        Assert.True(accepted > 50 && accepted < files.Count, $"oracle accepted {accepted} of {files.Count}: expected both kinds");

        using var content = StowClient.Body(bytes.Select(StowClient.Part));
        var answer = await StowClient.PostAsync(Http, "/dicomweb/studies", content);
        output.WriteLine($"{files.Count} sample files: {answer.Stored.Count} stored, {answer.Failed.Count} failed, HTTP {(int)answer.Status}");
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
        Assert.Equal("application/dicom+json", answer.ContentType);

        // Same verdict per part, in order: stored ones referenced, the rest failed with a reason code and text.
        Assert.Equal(verdicts.Where(v => v.Accepted).Select(v => v.Sop), answer.Stored.Select(s => s.SopInstanceUid));
        Assert.Equal(files.Count - accepted, answer.Failed.Count);
        var rejectedSops = verdicts.Where(v => !v.Accepted).Select(v => v.Sop).ToList();
        for (int i = 0; i < answer.Failed.Count; i++)
        {
            var f = answer.Failed[i];
            Assert.True(f.FailureReason is 0xC000 or 0xA900, $"failure reason {f.FailureReason:X4}: {answer}");
            Assert.False(string.IsNullOrWhiteSpace(f.Reason), $"no reason text: {answer}");
            if (rejectedSops[i] is { } sop) Assert.Equal(sop, f.SopInstanceUid);
        }
        foreach (var s in answer.Stored)
        {
            Assert.NotNull(s.SopClassUid);
            Assert.Matches($"^{Regex(Server.BaseAddress + "dicomweb/studies/")}[0-9.]+/series/[0-9.]+/instances/{Regex(s.SopInstanceUid!)}$", s.RetrieveUrl);
        }

        // The index holds exactly the accepted SOP Instance UIDs (the same set the upload door produced), filed as STOW.
        var index = await IndexAsync(Server);
        var stowed = answer.Stored.Select(s => s.SopInstanceUid!).ToHashSet();
        Assert.Equal(oracleIndex.Order(), stowed.Order());
        Assert.Subset(index.Keys.ToHashSet(), stowed);
        Assert.All(stowed, sop => Assert.Equal(IngestSource.Stow, index[sop].Source));
        Assert.All(stowed, sop => Assert.StartsWith("127.0.0.1:", index[sop].PeerAddress));

        // Stored byte for byte as sent: the first accepted part of each SOP Instance UID is the stored file.
        var firstFile = new Dictionary<string, int>();
        for (int i = 0; i < files.Count; i++)
            if (verdicts[i] is (true, { } sop)) firstFile.TryAdd(sop, i);
        foreach (var (sop, i) in firstFile)
            Assert.True(bytes[i].AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Server.ArchiveDir, index[sop].StoragePath))),
                $"{files[i]} is not stored byte-identical");
    }

    private static string Regex(string s) => System.Text.RegularExpressions.Regex.Escape(s);

    [Fact]
    public async Task Study_endpoint_stores_its_study_and_fails_instances_of_another()
    {
        var study = TestInstances.NewUid();
        var a = NewInstance(study, out var sopA);
        var b = NewInstance(study, out var sopB);
        var foreignStudy = TestInstances.NewUid();
        var foreign = NewInstance(foreignStudy, out var sopForeign);

        var answer = await StowClient.PostAsync(Http, $"/dicomweb/studies/{study}", StowClient.Body(a, foreign, b));
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
        Assert.Equal($"{Server.BaseAddress}dicomweb/studies/{study}", answer.StudyRetrieveUrl);
        Assert.Equal([sopA, sopB], answer.Stored.Select(s => s.SopInstanceUid));
        var failed = Assert.Single(answer.Failed);
        Assert.Equal(sopForeign, failed.SopInstanceUid);
        Assert.Equal(TestInstances.CTImageStorage, failed.SopClassUid);
        Assert.Equal(0xA900, failed.FailureReason);
        Assert.Contains(foreignStudy, failed.Reason);

        var index = await IndexAsync(Server);
        Assert.Contains(sopA, index.Keys);
        Assert.Contains(sopB, index.Keys);
        Assert.DoesNotContain(sopForeign, index.Keys);

        // Only foreign instances: nothing stored, 409 (PS3.18 Table 10.5.3-1: "Study Instance UID mismatch").
        var only = await StowClient.PostAsync(Http, $"/dicomweb/studies/{study}", StowClient.Body(foreign));
        Assert.True(only.Status == HttpStatusCode.Conflict, only.ToString());
        Assert.Empty(only.Stored);
        Assert.DoesNotContain(sopForeign, (await IndexAsync(Server)).Keys);
    }

    [Fact]
    public async Task All_stored_is_200_and_duplicates_count_as_stored()
    {
        var study = TestInstances.NewUid();
        var a = NewInstance(study, out var sopA);
        var b = NewInstance(study, out var sopB);
        var first = await StowClient.PostAsync(Http, "/dicomweb/studies", StowClient.Body(a, b));
        Assert.True(first.Status == HttpStatusCode.OK, first.ToString());
        Assert.Empty(first.Failed);
        Assert.Equal($"{Server.BaseAddress}dicomweb/studies/{study}", first.StudyRetrieveUrl);

        var again = await StowClient.PostAsync(Http, "/dicomweb/studies", StowClient.Body(b, a, a));
        Assert.True(again.Status == HttpStatusCode.OK, again.ToString());
        Assert.Equal([sopB, sopA, sopA], again.Stored.Select(s => s.SopInstanceUid));
        Assert.Equal(2, (await IndexAsync(Server)).Values.Count(r => r.Study == study));
    }

    [Fact]
    public async Task Non_dicom_parts_are_failed_items_and_the_others_are_stored()
    {
        var study = TestInstances.NewUid();
        var a = NewInstance(study, out var sopA);
        var text = new ByteArrayContent("a report, not DICOM"u8.ToArray()) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } };
        using var body = StowClient.Body([StowClient.Part("hello, not DICOM"u8.ToArray()), StowClient.Part(a), text]);
        var answer = await StowClient.PostAsync(Http, "/dicomweb/studies", body);
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
        Assert.Equal([sopA], answer.Stored.Select(s => s.SopInstanceUid));
        Assert.Equal(2, answer.Failed.Count);
        Assert.All(answer.Failed, f => Assert.Equal(0xC000, f.FailureReason));
        Assert.All(answer.Failed, f => Assert.Null(f.SopInstanceUid));
        Assert.Contains("part 1", answer.Failed[0].Reason);
        Assert.Contains("text/plain", answer.Failed[1].Reason);

        var none = await StowClient.PostAsync(Http, "/dicomweb/studies", StowClient.Body(new byte[2000]));
        Assert.True(none.Status == HttpStatusCode.Conflict, none.ToString());
        Assert.False(string.IsNullOrWhiteSpace(Assert.Single(none.Failed).Reason));
    }

    [Theory]
    [InlineData("multipart/related; type=application/dicom; boundary=B")] // unquoted, as many clients send it
    [InlineData("multipart/related; boundary=B; type=\"application/dicom\"")]
    [InlineData("Multipart/Related;type=application/dicom;boundary=\"B\"")]
    public async Task Content_types_as_clients_write_them_are_accepted(string contentType)
    {
        var a = NewInstance(TestInstances.NewUid(), out var sop);
        var answer = await StowClient.PostAsync(Http, "/dicomweb/studies", Raw(Multipart("B", [a]), contentType));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        Assert.Equal([sop], answer.Stored.Select(s => s.SopInstanceUid));
    }

    [Theory]
    [InlineData(null, 415)]
    [InlineData("application/dicom", 415)]
    [InlineData("multipart/form-data; boundary=B", 415)]
    [InlineData("multipart/related; type=\"application/dicom+json\"; boundary=B", 415)]
    [InlineData("multipart/related; type=\"application/dicom+xml\"; boundary=B", 415)]
    [InlineData("not a media type", 415)]
    [InlineData("multipart/related; type=\"application/dicom\"", 400)]
    [InlineData("multipart/related; type=\"application/dicom\"; boundary=\"\"", 400)]
    public async Task Wrong_content_types_are_refused_with_a_message_and_nothing_is_stored(string? contentType, int status)
    {
        var a = NewInstance(TestInstances.NewUid(), out var sop);
        var answer = await StowClient.PostAsync(Http, "/dicomweb/studies", Raw(Multipart("B", [a]), contentType));
        Assert.True((int)answer.Status == status, answer.ToString());
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.False(string.IsNullOrWhiteSpace(Detail(answer)), answer.ToString());
        Assert.DoesNotContain(sop, (await IndexAsync(Server)).Keys);
    }

    [Fact]
    public async Task Malformed_bodies_are_400_and_complete_parts_before_the_damage_stay_stored()
    {
        const string type = "multipart/related; type=\"application/dicom\"; boundary=B";
        var a = NewInstance(TestInstances.NewUid(), out var sopA);
        var b = NewInstance(TestInstances.NewUid(), out var sopB);

        // No boundary anywhere, and an empty body: nothing could be read.
        foreach (var garbage in new[] { "just text"u8.ToArray(), [] })
        {
            var g = await StowClient.PostAsync(Http, "/dicomweb/studies", Raw(garbage, type));
            Assert.True(g.Status == HttpStatusCode.BadRequest && g.ContentType == "application/problem+json", g.ToString());
            Assert.Contains("--B--", Detail(g));
        }

        // An absurd boundary (over 128 characters; RFC 2046 says 70, Orthanc sends 73).
        var longBoundary = new string('x', 129);
        var tooLong = await StowClient.PostAsync(Http, "/dicomweb/studies", Raw(Multipart(longBoundary, [a]), $"multipart/related; boundary={longBoundary}"));
        Assert.True(tooLong.Status == HttpStatusCode.BadRequest && Detail(tooLong).Contains("boundary"), tooLong.ToString());

        // The valid part-less body "--B--": 400.
        var empty = await StowClient.PostAsync(Http, "/dicomweb/studies", Raw("--B--\r\n"u8.ToArray(), type));
        Assert.True(empty.Status == HttpStatusCode.BadRequest, empty.ToString());

        // Cut inside the first part: 400, that part not stored (not even a prefix that happens to parse).
        var whole = Multipart("B", [a]);
        foreach (var cut in new[] { 400, whole.Length / 2, whole.Length - 12 })
        {
            var t = await StowClient.PostAsync(Http, "/dicomweb/studies", Raw(whole[..cut], type));
            Assert.True(t.Status == HttpStatusCode.BadRequest && t.ContentType == "application/dicom+json", $"cut at {cut}: {t}");
            Assert.Empty(t.Stored);
            Assert.Contains("--B--", Assert.Single(t.Failed).Reason);
            Assert.DoesNotContain(sopA, (await IndexAsync(Server)).Keys);
        }

        // Cut inside the second part: the first was received whole and is stored and listed; 202 (some stored).
        var two = Multipart("B", [a, b]);
        var partial = await StowClient.PostAsync(Http, "/dicomweb/studies", Raw(two[..(two.Length - 300)], type));
        Assert.True(partial.Status == HttpStatusCode.Accepted, partial.ToString());
        Assert.Equal([sopA], partial.Stored.Select(s => s.SopInstanceUid));
        Assert.Contains("part 2", Assert.Single(partial.Failed).Reason);
        var index = await IndexAsync(Server);
        Assert.Contains(sopA, index.Keys);
        Assert.DoesNotContain(sopB, index.Keys);

        // Both parts delimited, but the close delimiter "--B--" is missing: both stored, the damage still reported.
        var c = NewInstance(TestInstances.NewUid(), out var sopC);
        var noClose = await StowClient.PostAsync(Http, "/dicomweb/studies", Raw([.. Multipart("B", [b, c], close: false), .. "--B\r\n"u8], type));
        Assert.True(noClose.Status == HttpStatusCode.Accepted, noClose.ToString());
        Assert.Equal([sopB, sopC], noClose.Stored.Select(s => s.SopInstanceUid));
        Assert.Contains("--B--", Assert.Single(noClose.Failed).Reason);

        // No delimiter at all after the last part: its end is unknown (RFC 2046), so it is not stored; the one before it is.
        var d = NewInstance(TestInstances.NewUid(), out var sopD);
        var e = NewInstance(TestInstances.NewUid(), out var sopE);
        var open = await StowClient.PostAsync(Http, "/dicomweb/studies", Raw(Multipart("B", [d, e], close: false), type));
        Assert.True(open.Status == HttpStatusCode.Accepted, open.ToString());
        Assert.Equal([sopD], open.Stored.Select(s => s.SopInstanceUid));
        Assert.Contains("part 2", Assert.Single(open.Failed).Reason);
        Assert.DoesNotContain(sopE, (await IndexAsync(Server)).Keys);
    }

    [Fact]
    public async Task Accept_and_query_parameters_are_honoured_or_refused_with_a_message()
    {
        var a = NewInstance(TestInstances.NewUid(), out var sopA);

        using var xml = new HttpRequestMessage(HttpMethod.Post, "/dicomweb/studies") { Content = StowClient.Body(a) };
        xml.Headers.Accept.ParseAdd("application/dicom+xml");
        using var xmlResponse = await Http.SendAsync(xml);
        Assert.Equal(HttpStatusCode.NotAcceptable, xmlResponse.StatusCode);
        Assert.Contains("application/dicom+json", await xmlResponse.Content.ReadAsStringAsync());

        var unknown = await StowClient.PostAsync(Http, "/dicomweb/studies?project=no-such-project", StowClient.Body(a));
        Assert.True(unknown.Status == HttpStatusCode.BadRequest, unknown.ToString());
        Assert.Contains("no-such-project", Detail(unknown));
        var noDataset = await StowClient.PostAsync(Http, "/dicomweb/studies?project=lung&dataset=nope", StowClient.Body(a));
        Assert.True(noDataset.Status == HttpStatusCode.BadRequest, noDataset.ToString());
        var badStudy = await StowClient.PostAsync(Http, "/dicomweb/studies/not-a-uid", StowClient.Body(a));
        Assert.True(badStudy.Status == HttpStatusCode.BadRequest, badStudy.ToString());
        Assert.DoesNotContain(sopA, (await IndexAsync(Server)).Keys);

        using var json = new HttpRequestMessage(HttpMethod.Post, "/dicomweb/studies?project=lung&dataset=cohort") { Content = StowClient.Body(a) };
        json.Headers.Accept.ParseAdd("application/json");
        using var jsonResponse = await Http.SendAsync(json);
        Assert.Equal(HttpStatusCode.OK, jsonResponse.StatusCode);
        Assert.Equal("application/dicom+json", jsonResponse.Content.Headers.ContentType?.MediaType);
        Assert.Contains(sopA, await ProjectSopsAsync(Server, "lung"));
        Assert.DoesNotContain(sopA, await ProjectSopsAsync(Server, "default"));
    }

    [Fact]
    public async Task Curl_posts_an_assembled_multipart_file()
    {
        var curl = RepoPaths.FindOnPath("curl");
        Assert.True(curl is not null, "curl not found on PATH: install the Debian package 'curl'.");
        var study = TestInstances.NewUid();
        var dir = Directory.CreateTempSubdirectory("kaapana-stow-curl-").FullName;
        try
        {
            var body = Path.Combine(dir, "body.bin");
            // Generated instances only: a sample file here could be stored before the samples test sends its own copy.
            await File.WriteAllBytesAsync(body, Multipart("curl-boundary-7d3", [NewInstance(study, out var sop), NewInstance(study, out _, size: 64)]));
            var psi = new ProcessStartInfo(curl!) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "-sS", "-X", "POST", "--data-binary", "@" + body, "-H", "Content-Type: multipart/related; type=\"application/dicom\"; boundary=curl-boundary-7d3",
                         "-H", "Accept: application/dicom+json", "-u", $"{TestCredentials.AdminUser}:{TestCredentials.AdminPassword}", "-w", "\n%{http_code} %{content_type}", $"{Server.BaseAddress}dicomweb/studies" })
                psi.ArgumentList.Add(arg);
            using var p = Process.Start(psi)!;
            var stdout = await p.StandardOutput.ReadToEndAsync();
            var stderr = await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            Assert.True(p.ExitCode == 0, $"curl exited {p.ExitCode}: {stderr}");
            var lines = stdout.Split('\n');
            Assert.Equal("200 application/dicom+json", lines[^1]);
            var answer = StowClient.Parse(HttpStatusCode.OK, "application/dicom+json", string.Join('\n', lines[..^1]));
            Assert.Equal(2, answer.Stored.Count);
            Assert.Equal(sop, answer.Stored[0].SopInstanceUid);
            Assert.Contains(sop, (await IndexAsync(Server)).Keys);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
