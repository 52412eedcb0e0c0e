using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kaapana.Dicom;
using Kaapana.Tests.Archive.Dicom;
using static Kaapana.Tests.Access.Matrix.AccessMatrixFixture;

namespace Kaapana.Tests.Access.Matrix;

/// <summary>
/// The DIMSE door with DCMTK's findscu, getscu and movescu over loopback: the called AE title decides the project, so
/// ALPHA_AE answers with alpha's data only and BETA_AE with beta's; a query or retrieval of the other project's patient,
/// study, series or instance finds nothing (no count, no UID). The server's own title (KAAPANA) sees both. The C-MOVE
/// destination is a remote node this class adds and removes again.
/// </summary>
[Collection(AccessMatrixCollection.Name)]
public sealed class DimseDoorTests(AccessMatrixFixture m) : IAsyncLifetime
{
    private const string MoveAE = "MATRIXMOVE";
    private readonly int _movePort = TestPorts.Free();
    private int _nodeId;

    public async Task InitializeAsync()
    {
        using var admin = m.Server.CreateClient();
        using var r = await admin.PostAsJsonAsync("/api/remote-nodes", new { aeTitle = MoveAE, host = "127.0.0.1", port = _movePort, description = "matrix C-MOVE destination" });
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.Created, $"POST /api/remote-nodes: {(int)r.StatusCode} {body}");
        _nodeId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt32();
    }

    public async Task DisposeAsync()
    {
        using var admin = m.Server.CreateClient();
        using var r = await admin.DeleteAsync($"/api/remote-nodes/{_nodeId}");
    }

    private ProjectData Own(string ae) => ae == "ALPHA_AE" ? m.Alpha : m.Beta;
    private ProjectData Other(string ae) => ae == "ALPHA_AE" ? m.Beta : m.Alpha;

    /// <summary>findscu to <paramref name="calledAE"/> (patient root for PATIENT level, else study root): the response identifiers as data sets and as text.</summary>
    private async Task<(List<DicomDataset> Answers, string Output)> FindAsync(string calledAE, params string[] keys)
    {
        var dir = Directory.CreateTempSubdirectory("matrix-find-").FullName;
        try
        {
            var root = keys[0].EndsWith("PATIENT", StringComparison.Ordinal) ? "-P" : "-S";
            var args = new List<string> { "-v", root, "-aet", "MATRIXSCU", "-aec", calledAE, "-X", "-od", dir };
            foreach (var k in keys) args.AddRange(["-k", k]);
            args.AddRange(["127.0.0.1", m.Port]);
            var r = await DicomTools.RunAsync("findscu", [.. args]);
            Assert.True(r.ExitCode == 0 && !r.Output.Contains("E: "), $"findscu {string.Join(' ', args)}: {r}");
            var answers = Directory.GetFiles(dir, "rsp*.dcm").Order().Select(f => DicomFile.Open(f).Dataset).ToList();
            // The identifiers as text, for the leak check (what a user of findscu would read).
            var text = string.Join("\n", answers.SelectMany(d => d.Select(e => e.Tag + "=" + d.GetString(e.Tag))));
            return (answers, text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>getscu, or movescu to <see cref="MoveAE"/> (which it receives itself): the SOP Instance UIDs that arrived.</summary>
    private async Task<List<string>> RetrieveAsync(string tool, string calledAE, string level, params string[] keys)
    {
        var dir = Directory.CreateTempSubdirectory("matrix-get-").FullName;
        try
        {
            var root = keys[0].EndsWith("PATIENT", StringComparison.Ordinal) ? "-P" : "-S";
            var args = new List<string> { "-v", root, "-aet", "MATRIXSCU", "-aec", calledAE, "-od", dir };
            if (tool == "movescu") args.AddRange(["-aem", MoveAE, "--port", _movePort.ToString(CultureInfo.InvariantCulture)]);
            args.AddRange(["-k", $"QueryRetrieveLevel={level}"]);
            foreach (var k in keys) args.AddRange(["-k", k]);
            args.AddRange(["127.0.0.1", m.Port]);
            var r = await DicomTools.RunAsync(tool, [.. args]);
            Assert.True(r.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {r}");
            return Directory.GetFiles(dir).Select(f => DicomFile.Open(f).Dataset.GetString(DicomTags.SOPInstanceUID)).Order().ToList();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("ALPHA_AE")]
    [InlineData("BETA_AE")]
    public async Task Find_at_every_level_through_an_endpoint_sees_only_its_project(string ae)
    {
        var own = Own(ae);
        var other = Other(ae);
        var (studies, text) = await FindAsync(ae, "QueryRetrieveLevel=STUDY", "StudyInstanceUID", "PatientID", "PatientName", "NumberOfStudyRelatedSeries");
        Assert.Contains(own.StudyUid, studies.Select(d => d.GetString(DicomTags.StudyInstanceUID)));
        AssertNoLeak("dimse/c-find", text, other);
        CountAllowed("dimse/c-find");

        var (series, seriesText) = await FindAsync(ae, "QueryRetrieveLevel=SERIES", $"StudyInstanceUID={own.StudyUid}", "SeriesInstanceUID");
        Assert.Equal(own.SeriesUids.Order(), series.Select(d => d.GetString(DicomTags.SeriesInstanceUID)).Order());
        AssertNoLeak("dimse/c-find", seriesText, other);
        CountAllowed("dimse/c-find");

        var (patients, patientText) = await FindAsync(ae, "QueryRetrieveLevel=PATIENT", "PatientID", "NumberOfPatientRelatedStudies");
        Assert.Contains(own.PatientId, patients.Select(d => d.GetString(DicomTags.PatientID)));
        AssertNoLeak("dimse/c-find", patientText, other);
        CountAllowed("dimse/c-find");
    }

    [Theory]
    [InlineData("ALPHA_AE")]
    [InlineData("BETA_AE")]
    public async Task Find_of_the_other_projects_patient_study_series_or_instance_through_an_endpoint_is_empty(string ae)
    {
        var other = Other(ae);
        var surname = other.PatientName.Split('^')[0];
        string[][] questions =
        [
            ["QueryRetrieveLevel=STUDY", $"PatientName={surname}*", "StudyInstanceUID"],
            ["QueryRetrieveLevel=STUDY", $"PatientID={other.PatientId}", "StudyInstanceUID"],
            ["QueryRetrieveLevel=STUDY", $"StudyInstanceUID={other.StudyUid}", "NumberOfStudyRelatedInstances"],
            ["QueryRetrieveLevel=SERIES", $"StudyInstanceUID={other.StudyUid}", "SeriesInstanceUID"],
            ["QueryRetrieveLevel=IMAGE", $"StudyInstanceUID={other.StudyUid}", $"SeriesInstanceUID={other.SeriesUids[0]}", "SOPInstanceUID"],
            ["QueryRetrieveLevel=PATIENT", $"PatientID={other.PatientId}", "PatientName"],
        ];
        foreach (var keys in questions)
        {
            var (answers, text) = await FindAsync(ae, keys);
            // The data is there: the server's own title finds it.
            Assert.NotEmpty((await FindAsync("KAAPANA", keys)).Answers);
            AssertNothingFound("dimse/c-find", answers.Count, text, other);
        }
    }

    [Theory]
    [InlineData("getscu", "ALPHA_AE")]
    [InlineData("getscu", "BETA_AE")]
    [InlineData("movescu", "ALPHA_AE")]
    [InlineData("movescu", "BETA_AE")]
    public async Task Retrieve_through_an_endpoint_delivers_its_own_study_and_nothing_of_the_other_project(string tool, string ae)
    {
        var own = Own(ae);
        var other = Other(ae);
        var door = tool == "getscu" ? "dimse/c-get" : "dimse/c-move";
        Assert.Equal(own.SopUids.Order(), await RetrieveAsync(tool, ae, "STUDY", $"StudyInstanceUID={own.StudyUid}"));
        CountAllowed(door);
        foreach (var (level, keys) in new (string, string[])[]
                 {
                     ("STUDY", [$"StudyInstanceUID={other.StudyUid}"]),
                     ("SERIES", [$"StudyInstanceUID={other.StudyUid}", $"SeriesInstanceUID={other.SeriesUids[0]}"]),
                     ("IMAGE", [$"StudyInstanceUID={other.StudyUid}", $"SeriesInstanceUID={other.SeriesUids[0]}", $"SOPInstanceUID={other.SopUids[0]}"]),
                 })
        {
            var got = await RetrieveAsync(tool, ae, level, keys);
            AssertNothingFound(door, got.Count, string.Join(",", got), other);
        }
        // The server's own title delivers the other study (the retrieval itself works).
        Assert.Equal(other.SopUids.Order(), await RetrieveAsync(tool, "KAAPANA", "STUDY", $"StudyInstanceUID={other.StudyUid}"));
    }
}
