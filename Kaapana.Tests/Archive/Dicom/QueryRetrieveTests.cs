using System.Globalization;
using Kaapana.Dicom;

namespace Kaapana.Tests.Archive.Dicom;

/// <summary>A server holding 2 patients x 2 studies (dates 20240101, 20240102) x 2 series (CT, MR) x 2 instances, with C-MOVE destination STORESCP.</summary>
public sealed class QueryRetrieveFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("kaapana-qr-").FullName;
    public KaapanaServer Server { get; private set; } = null!;
    public int StoreScpPort { get; } = KaapanaServer.FreePort();
    public List<string> Files { get; private set; } = [];
    public Dictionary<string, (string Patient, string PatientName, string Study, string Series, string Modality, string StudyDate)> BySop { get; } = [];

    public async Task InitializeAsync()
    {
        var data = Directory.CreateDirectory(Path.Combine(Root, "data")).FullName;
        Server = await KaapanaServer.StartAsync(data, new Dictionary<string, string>
        {
            ["Kaapana__Dicom__RemoteNodes__0__AETitle"] = "STORESCP",
            ["Kaapana__Dicom__RemoteNodes__0__Host"] = "127.0.0.1",
            ["Kaapana__Dicom__RemoteNodes__0__Port"] = StoreScpPort.ToString(CultureInfo.InvariantCulture),
        });
        Files = DicomReceiverTests.Generate(Path.Combine(Root, "send"), 2, 2, 2, 2, namePrefix: "Qr^P");
        foreach (var f in Files)
        {
            var ds = DicomFile.Open(f).Dataset;
            BySop[ds.GetString(DicomTags.SOPInstanceUID)] = (ds.GetString(DicomTags.PatientID), ds.GetString(DicomTags.PatientName),
                ds.GetString(DicomTags.StudyInstanceUID), ds.GetString(DicomTags.SeriesInstanceUID), ds.GetString(DicomTags.Modality),
                ds.GetString(DicomTags.StudyDate));
        }
        var r = await DicomTools.RunAsync("storescu", "-v", "-aec", "KAAPANA", "+sd", "127.0.0.1", Server.DicomPort.ToString(CultureInfo.InvariantCulture), Path.Combine(Root, "send"));
        Assert.True(r.ExitCode == 0 && DicomReceiverTests.CountSuccess(r.Output) == Files.Count, $"storescu: {r}");
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class QueryRetrieveTests(QueryRetrieveFixture fx) : IClassFixture<QueryRetrieveFixture>
{
    private string Port => fx.Server.DicomPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs findscu (-P patient root, -S study root) and returns the response identifiers it extracted.</summary>
    private async Task<List<DicomDataset>> FindAsync(string model, params string[] keys)
    {
        var dir = Directory.CreateTempSubdirectory("findscu-").FullName;
        try
        {
            var args = new List<string> { "-v", model, "-aec", "KAAPANA", "-X", "-od", dir };
            foreach (var k in keys) args.AddRange(["-k", k]);
            args.AddRange(["127.0.0.1", Port]);
            var r = await DicomTools.RunAsync("findscu", [.. args]);
            Assert.True(r.ExitCode == 0 && !r.Output.Contains("E: "), $"findscu {string.Join(' ', keys)}: {r}\n{fx.Server.Output}");
            return Directory.GetFiles(dir, "rsp*.dcm").Order().Select(f => DicomFile.Open(f).Dataset).ToList();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private IEnumerable<(string Patient, string PatientName, string Study, string Series, string Modality, string StudyDate)> All => fx.BySop.Values;

    [Fact]
    public async Task Patient_root_patient_level_lists_every_patient_with_counts()
    {
        var rsp = await FindAsync("-P", "QueryRetrieveLevel=PATIENT", "PatientID", "PatientName", "NumberOfPatientRelatedStudies");
        Assert.Equal(All.Select(x => x.Patient).Distinct().Order(), rsp.Select(d => d.GetString(DicomTags.PatientID)).Order());
        Assert.All(rsp, d => Assert.Equal("2", d.GetString(DicomTags.NumberOfPatientRelatedStudies).Trim()));
        Assert.All(rsp, d => Assert.StartsWith("Qr^P", d.GetString(DicomTags.PatientName)));
    }

    [Fact]
    public async Task Patient_root_study_level_by_patient_id_and_case_insensitive_name_wildcard()
    {
        var patient = All.First();
        var rsp = await FindAsync("-P", "QueryRetrieveLevel=STUDY", $"PatientID={patient.Patient}", "StudyInstanceUID", "StudyDate");
        Assert.Equal(All.Where(x => x.Patient == patient.Patient).Select(x => x.Study).Distinct().Order(),
            rsp.Select(d => d.GetString(DicomTags.StudyInstanceUID)).Order());

        rsp = await FindAsync("-P", "QueryRetrieveLevel=STUDY", $"PatientName={patient.PatientName.ToLowerInvariant()[..^1]}*", "StudyInstanceUID");
        Assert.Equal(All.Where(x => x.PatientName.StartsWith(patient.PatientName[..^1], StringComparison.Ordinal)).Select(x => x.Study).Distinct().Order(),
            rsp.Select(d => d.GetString(DicomTags.StudyInstanceUID)).Order());
    }

    [Fact]
    public async Task Study_root_study_level_date_range_and_single_date()
    {
        var rsp = await FindAsync("-S", "QueryRetrieveLevel=STUDY", "StudyDate=20240102-", "StudyInstanceUID", "ModalitiesInStudy", "PatientID");
        Assert.Equal(All.Where(x => x.StudyDate == "20240102").Select(x => x.Study).Distinct().Order(), rsp.Select(d => d.GetString(DicomTags.StudyInstanceUID)).Order());
        Assert.All(rsp, d => Assert.Equal(["CT", "MR"], d.GetStrings(DicomTags.ModalitiesInStudy)));

        rsp = await FindAsync("-S", "QueryRetrieveLevel=STUDY", "StudyDate=20240101", "StudyInstanceUID");
        Assert.Equal(All.Where(x => x.StudyDate == "20240101").Select(x => x.Study).Distinct().Order(), rsp.Select(d => d.GetString(DicomTags.StudyInstanceUID)).Order());

        rsp = await FindAsync("-S", "QueryRetrieveLevel=STUDY", "StudyDate=19990101-19991231", "StudyInstanceUID");
        Assert.Empty(rsp);
    }

    [Fact]
    public async Task Study_root_series_level_by_modality_and_uid_list()
    {
        var study = All.First().Study;
        var rsp = await FindAsync("-S", "QueryRetrieveLevel=SERIES", $"StudyInstanceUID={study}", "Modality=MR", "SeriesInstanceUID", "NumberOfSeriesRelatedInstances");
        var expected = All.Where(x => x.Study == study && x.Modality == "MR").Select(x => x.Series).Distinct().ToList();
        Assert.Equal(expected, rsp.Select(d => d.GetString(DicomTags.SeriesInstanceUID)));
        Assert.Equal("2", rsp.Single().GetString(DicomTags.NumberOfSeriesRelatedInstances).Trim());

        var two = All.Select(x => x.Series).Distinct().Take(2).Order().ToList();
        rsp = await FindAsync("-S", "QueryRetrieveLevel=SERIES", $"SeriesInstanceUID={two[0]}\\{two[1]}", "Modality");
        Assert.Equal(two, rsp.Select(d => d.GetString(DicomTags.SeriesInstanceUID)).Order());
    }

    [Fact]
    public async Task Image_level_in_both_models()
    {
        var series = All.First().Series;
        var expected = fx.BySop.Where(kv => kv.Value.Series == series).Select(kv => kv.Key).Order().ToList();
        var rsp = await FindAsync("-S", "QueryRetrieveLevel=IMAGE", $"StudyInstanceUID={All.First().Study}", $"SeriesInstanceUID={series}", "SOPInstanceUID", "InstanceNumber");
        Assert.Equal(expected, rsp.Select(d => d.GetString(DicomTags.SOPInstanceUID)).Order());
        rsp = await FindAsync("-P", "QueryRetrieveLevel=IMAGE", $"PatientID={All.First().Patient}", $"StudyInstanceUID={All.First().Study}",
            $"SeriesInstanceUID={series}", "SOPInstanceUID");
        Assert.Equal(expected, rsp.Select(d => d.GetString(DicomTags.SOPInstanceUID)).Order());
    }

    [Fact]
    public async Task Move_a_study_to_a_configured_storescp_and_get_a_series()
    {
        var study = All.First().Study;
        var dir = Directory.CreateTempSubdirectory("storescp-").FullName;
        var scpOutput = new System.Text.StringBuilder();
        using var scp = DicomTools.Start("storescp", ["-v", "-aet", "STORESCP", "-od", dir, "+xa", fx.StoreScpPort.ToString(CultureInfo.InvariantCulture)], output: scpOutput);
        try
        {
            await Task.Delay(300); // storescp binds at once; it has no readiness signal
            var r = await DicomTools.RunAsync("movescu", "-v", "-S", "-aec", "KAAPANA", "-aem", "STORESCP", "-k", "QueryRetrieveLevel=STUDY",
                "-k", $"StudyInstanceUID={study}", "127.0.0.1", Port);
            Assert.True(r.ExitCode == 0 && !r.Output.Contains("E: "), $"movescu: {r}\n{scpOutput}");
            var expected = fx.BySop.Where(kv => kv.Value.Study == study).Select(kv => kv.Key).Order().ToList();
            var received = Directory.GetFiles(dir).ToDictionary(f => DicomFile.Open(f).Dataset.GetString(DicomTags.SOPInstanceUID));
            Assert.Equal(expected, received.Keys.Order());
            foreach (var sop in expected)
                Assert.Equal(await DicomTools.DumpDatasetAsync(fx.Files.Single(f => f.Contains(sop + ".dcm", StringComparison.Ordinal))),
                    await DicomTools.DumpDatasetAsync(received[sop]));

            r = await DicomTools.RunAsync("movescu", "-v", "-S", "-aec", "KAAPANA", "-aem", "NOWHERE", "-k", "QueryRetrieveLevel=STUDY",
                "-k", $"StudyInstanceUID={study}", "127.0.0.1", Port);
            Assert.True(r.Output.Contains("a801", StringComparison.OrdinalIgnoreCase) || r.Output.Contains("MoveDestinationUnknown", StringComparison.Ordinal), $"movescu to NOWHERE: {r}");
        }
        finally
        {
            if (!scp.HasExited) scp.Kill();
            await scp.WaitForExitAsync();
        }

        var series = All.First().Series;
        var getDir = Directory.CreateTempSubdirectory("getscu-").FullName;
        var g = await DicomTools.RunAsync("getscu", "-v", "-S", "-aec", "KAAPANA", "-od", getDir, "-k", "QueryRetrieveLevel=SERIES",
            "-k", $"StudyInstanceUID={All.First().Study}", "-k", $"SeriesInstanceUID={series}", "127.0.0.1", Port);
        Assert.True(g.ExitCode == 0 && !g.Output.Contains("E: "), $"getscu: {g}");
        Assert.Equal(fx.BySop.Where(kv => kv.Value.Series == series).Select(kv => kv.Key).Order(),
            Directory.GetFiles(getDir).Select(f => DicomFile.Open(f).Dataset.GetString(DicomTags.SOPInstanceUID)).Order());
        Directory.Delete(dir, true);
        Directory.Delete(getDir, true);
    }
}
