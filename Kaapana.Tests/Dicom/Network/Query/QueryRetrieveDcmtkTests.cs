using System.Net;
using Kaapana.Dicom;
using Kaapana.Tests.Interop;

namespace Kaapana.Tests.Dicom.Network.Query;

/// <summary>Our Q/R SCP against DCMTK findscu, movescu (to a DCMTK storescp) and getscu, with TCP_NODELAY=1.</summary>
public class QueryRetrieveDcmtkTests(QueryRetrieveFixture fx) : IClassFixture<QueryRetrieveFixture>
{
    private QueryTestData.Instance[] Study1 => fx.Data.Where(d => d.PatientId == "PAT001" && d.Modality == "CT").ToArray();

    private string[] Peer => ["-aet", "DCMTK_SCU", "-aec", QueryRetrieveFixture.AeTitle, "127.0.0.1", fx.Port.ToString()];

    /// <summary>findscu with responses extracted to files (-X); returns them in order, plus the tool's output.</summary>
    private async Task<(List<DicomDataset> Responses, Peers.Result Run)> FindScuAsync(string model, params string[] keys)
    {
        var dir = fx.NewDir("findscu");
        var args = new List<string> { model, "-v", "-X", "-od", dir };
        foreach (var k in keys) args.AddRange(["-k", k]);
        args.AddRange(Peer);
        var run = await Peers.RunDcmtkAsync("findscu", args);
        Assert.True(run.ExitCode == 0, run.Output);
        var responses = Directory.GetFiles(dir, "rsp*.dcm").Order(StringComparer.Ordinal).Select(f => DicomFile.Open(f).Dataset).ToList();
        return (responses, run);
    }

    [Fact]
    public async Task Findscu_patient_root_patient_level_with_wildcard()
    {
        var (rsp, _) = await FindScuAsync("-P", "QueryRetrieveLevel=PATIENT", "PatientName=doe*", "PatientID", "PatientBirthDate",
            "NumberOfPatientRelatedStudies");
        var r = Assert.Single(rsp);
        Assert.Equal("PAT001", r.GetString(DicomTags.PatientID));
        Assert.Equal("Doe^John", r.GetString(DicomTags.PatientName));
        Assert.Equal("19700101", r.GetString(DicomTags.PatientBirthDate));
        Assert.Equal("2", r.GetString(DicomTags.NumberOfPatientRelatedStudies));
        Assert.Equal("PATIENT", r.GetString(DicomTags.QueryRetrieveLevel));
        Assert.False(r.Contains(DicomTags.StudyInstanceUID));
    }

    [Fact]
    public async Task Findscu_patient_root_study_level_with_date_range()
    {
        var (rsp, _) = await FindScuAsync("-P", "QueryRetrieveLevel=STUDY", "PatientID=PAT001", "StudyDate=20200101-20201231",
            "StudyInstanceUID", "AccessionNumber", "StudyTime");
        var r = Assert.Single(rsp);
        Assert.Equal("ACC001", r.GetString(DicomTags.AccessionNumber));
        Assert.Equal(Study1[0].StudyUid, r.GetString(DicomTags.StudyInstanceUID));
        Assert.Equal("101500", r.GetString(DicomTags.StudyTime));
    }

    [Fact]
    public async Task Findscu_study_root_study_level_with_open_range_and_modality()
    {
        var (rsp, _) = await FindScuAsync("-S", "QueryRetrieveLevel=STUDY", "StudyDate=-20200630", "ModalitiesInStudy=CT", "AccessionNumber",
            "PatientName", "NumberOfStudyRelatedInstances");
        // CT_small.dcm (2004, CT) matches too; its accession number is empty.
        Assert.Equal(["", "ACC001", "ACC003"], rsp.Select(r => r.GetString(DicomTags.AccessionNumber)).Order());
        Assert.Equal("4", rsp.Single(r => r.GetString(DicomTags.AccessionNumber) == "ACC001").GetString(DicomTags.NumberOfStudyRelatedInstances));
        Assert.All(rsp, r => Assert.Equal("CT", r.GetString(DicomTags.ModalitiesInStudy)));
    }

    [Fact]
    public async Task Findscu_study_root_matches_non_ASCII_names_in_the_candidates_character_set()
    {
        var (rsp, _) = await FindScuAsync("-S", "SpecificCharacterSet=ISO_IR 192", "QueryRetrieveLevel=STUDY", "PatientName=MÜLLER*", "AccessionNumber");
        var r = Assert.Single(rsp);
        Assert.Equal("ACC004", r.GetString(DicomTags.AccessionNumber));
        Assert.Equal("ISO_IR 100", r.GetString(DicomTags.SpecificCharacterSet));
        Assert.Equal("Müller^Jürgen", r.GetString(DicomTags.PatientName));
    }

    [Fact]
    public async Task Findscu_study_root_series_level_with_wildcard_and_list_of_UIDs()
    {
        var study = Study1[0].StudyUid;
        var (rsp, _) = await FindScuAsync("-S", "QueryRetrieveLevel=SERIES", $"StudyInstanceUID={study}", "SeriesDescription=?xial",
            "Modality", "SeriesInstanceUID", "NumberOfSeriesRelatedInstances");
        var r = Assert.Single(rsp);
        Assert.Equal("3", r.GetString(DicomTags.NumberOfSeriesRelatedInstances));
        Assert.Equal("CT", r.GetString(DicomTags.Modality));

        var both = string.Join('\\', Study1.Select(s => s.SeriesUid).Distinct());
        (rsp, _) = await FindScuAsync("-S", "QueryRetrieveLevel=SERIES", $"StudyInstanceUID={study}", $"SeriesInstanceUID={both}", "SeriesNumber");
        Assert.Equal(["1", "2"], rsp.Select(x => x.GetString(DicomTags.SeriesNumber)).Order());
    }

    [Fact]
    public async Task Findscu_image_level_in_both_models()
    {
        var series = Study1.Where(s => s.SeriesUid == Study1[0].SeriesUid).ToArray();
        var two = $"{series[0].SopUid}\\{series[2].SopUid}";
        var (rsp, _) = await FindScuAsync("-S", "QueryRetrieveLevel=IMAGE", $"StudyInstanceUID={series[0].StudyUid}",
            $"SeriesInstanceUID={series[0].SeriesUid}", $"SOPInstanceUID={two}", "InstanceNumber", "SOPClassUID");
        Assert.Equal(["1", "3"], rsp.Select(x => x.GetString(DicomTags.InstanceNumber)).Order());
        Assert.All(rsp, x => Assert.Equal(DicomUids.CTImageStorage, x.GetString(DicomTags.SOPClassUID)));

        (rsp, _) = await FindScuAsync("-P", "QueryRetrieveLevel=IMAGE", "PatientID=PAT001", $"StudyInstanceUID={series[0].StudyUid}",
            $"SeriesInstanceUID={series[0].SeriesUid}", "InstanceNumber=2", "SOPInstanceUID");
        Assert.Equal(series[1].SopUid, Assert.Single(rsp).GetString(DicomTags.SOPInstanceUID));
    }

    [Fact]
    public async Task Findscu_patient_root_series_level()
    {
        var mr = fx.Data.First(d => d.Modality == "MR" && d.PatientId == "PAT001");
        var (rsp, _) = await FindScuAsync("-P", "QueryRetrieveLevel=SERIES", "PatientID=PAT001", $"StudyInstanceUID={mr.StudyUid}",
            "Modality=MR", "SeriesDescription=T1*", "SeriesInstanceUID");
        Assert.Equal(mr.SeriesUid, Assert.Single(rsp).GetString(DicomTags.SeriesInstanceUID));
    }

    [Fact]
    public async Task Findscu_return_key_of_a_lower_level_is_answered_empty_with_a_warning()
    {
        var (rsp, run) = await FindScuAsync("-S", "QueryRetrieveLevel=STUDY", "AccessionNumber=ACC002", "Modality", "StudyInstanceUID");
        var r = Assert.Single(rsp);
        Assert.True(r.Contains(DicomTags.Modality));
        Assert.Equal("", r.GetString(DicomTags.Modality));
        Assert.Contains("Find Response 1 (Pending: WarningUnsupportedOptionalKeys)", run.Output); // FF01
    }

    [Fact]
    public async Task Findscu_gets_A900_for_a_key_below_the_query_level()
    {
        var (rsp, run) = await FindScuAsync("-S", "QueryRetrieveLevel=STUDY", "Modality=CT");
        Assert.Empty(rsp);
        Assert.Contains("Final Find Response (Error: DataSetDoesNotMatchSOPClass)", run.Output);
    }

    [Fact]
    public async Task Findscu_cancel_stops_our_enumeration()
    {
        fx.Archive.MatchDelay = TimeSpan.FromMilliseconds(100);
        var cancelled = fx.Archive.ExpectFindCancellation();
        try
        {
            var dir = fx.NewDir("cancel");
            var run = await Peers.RunDcmtkAsync("findscu",
                ["-S", "-v", "--cancel", "1", "-X", "-od", dir, "-k", "QueryRetrieveLevel=IMAGE", "-k", "SOPInstanceUID", .. Peer]);
            Assert.True(run.ExitCode == 0, run.Output);
            await cancelled.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(Directory.GetFiles(dir).Length < fx.Data.Count + 1, run.Output);
            Assert.Contains("Final Find Response (Cancel: MatchingTerminatedDueToCancelRequest)", run.Output);
        }
        finally
        {
            fx.Archive.MatchDelay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Movescu_sends_the_study_to_a_dcmtk_storescp()
    {
        var dir = fx.NewDir("storescp");
        var port = OrthancPeer.FreePort(IPAddress.Loopback);
        await using var storescp = PeerProcess.Start(Peers.Dcmtk("storescp"), ["-aet", "STORESCP", "-od", dir, "+xa", port.ToString()]);
        await OrthancFixtureTests.WaitForListenerAsync(IPAddress.Loopback, port, storescp);
        fx.Archive.Destinations["STORESCP"] = new("STORESCP", "127.0.0.1", port);

        var run = await Peers.RunDcmtkAsync("movescu", ["-S", "-d", "-aem", "STORESCP", "-k", "QueryRetrieveLevel=STUDY",
            "-k", $"StudyInstanceUID={Study1[0].StudyUid}", .. Peer]);
        Assert.True(run.ExitCode == 0, run.Output);
        var received = Directory.GetFiles(dir).Select(f => DicomFile.Open(f).Dataset.GetString(DicomTags.SOPInstanceUID)).Order().ToArray();
        Assert.Equal(Study1.Select(s => s.SopUid).Order(), received);
        // The last response DCMTK prints: final, success, four completed (three pending responses came before it).
        var final = run.Output[run.Output.LastIndexOf("Received Final Move Response", StringComparison.Ordinal)..];
        Assert.Contains("0x0000: Success", final);
        Assert.Contains("Completed Suboperations       : 4", final);
        Assert.Contains("Remaining Suboperations       : none", final);
        Assert.Contains("Remaining Suboperations       : 1", run.Output);

        // Patient Root, series level.
        var series = fx.Data.First(d => d.Modality == "MR");
        run = await Peers.RunDcmtkAsync("movescu", ["-P", "-v", "-aem", "STORESCP", "-k", "QueryRetrieveLevel=SERIES", "-k", $"PatientID={series.PatientId}",
            "-k", $"StudyInstanceUID={series.StudyUid}", "-k", $"SeriesInstanceUID={series.SeriesUid}", .. Peer]);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(Study1.Length + fx.Data.Count(d => d.SeriesUid == series.SeriesUid), Directory.GetFiles(dir).Length);
    }

    [Fact]
    public async Task Movescu_to_an_unknown_destination_gets_A801()
    {
        var run = await Peers.RunDcmtkAsync("movescu", ["-S", "-v", "-aem", "NOBODY", "-k", "QueryRetrieveLevel=STUDY",
            "-k", $"StudyInstanceUID={Study1[0].StudyUid}", .. Peer]);
        Assert.Contains("Final Move Response (Refused: MoveDestinationUnknown)", run.Output);
    }

    [Fact]
    public async Task Getscu_receives_data_sets_identical_to_the_originals()
    {
        var dir = fx.NewDir("getscu");
        var series = Study1.Where(s => s.SeriesUid == Study1[0].SeriesUid).ToArray();
        var run = await Peers.RunDcmtkAsync("getscu", ["-S", "-v", "-od", dir, "-k", "QueryRetrieveLevel=SERIES",
            "-k", $"StudyInstanceUID={series[0].StudyUid}", "-k", $"SeriesInstanceUID={series[0].SeriesUid}", .. Peer]);
        Assert.True(run.ExitCode == 0, run.Output);
        var files = Directory.GetFiles(dir);
        Assert.Equal(series.Length, files.Length);
        foreach (var f in files)
        {
            var uid = DicomFile.Open(f).Dataset.GetString(DicomTags.SOPInstanceUID);
            var original = series.Single(s => s.SopUid == uid).Path;
            Assert.Equal(await DumpDatasetAsync(original), await DumpDatasetAsync(f));
        }

        // The real sample file, Patient Root at image level.
        var real = DicomFile.Open(fx.RealFile).Dataset;
        var dir2 = fx.NewDir("getscu-real");
        run = await Peers.RunDcmtkAsync("getscu", ["-P", "-v", "-od", dir2, "-k", "QueryRetrieveLevel=IMAGE",
            "-k", $"PatientID={real.GetString(DicomTags.PatientID)}", "-k", $"StudyInstanceUID={real.GetString(DicomTags.StudyInstanceUID)}",
            "-k", $"SeriesInstanceUID={real.GetString(DicomTags.SeriesInstanceUID)}", "-k", $"SOPInstanceUID={real.GetString(DicomTags.SOPInstanceUID)}", .. Peer]);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(await DumpDatasetAsync(fx.RealFile), await DumpDatasetAsync(Assert.Single(Directory.GetFiles(dir2))));
    }

    /// <summary>
    /// dcmdump of the data set only, values in full. Left out: the meta information, the transfer syntax line, and how sequences
    /// and items are delimited (explicit length or undefined length with delimiters), which DCMTK chooses anew when it writes a
    /// received data set to a file.
    /// </summary>
    internal static async Task<string> DumpDatasetAsync(string file)
    {
        var r = (await Peers.RunDcmtkAsync("dcmdump", ["+L", "-q", file])).EnsureSuccess($"dcmdump {file}");
        var lines = r.Stdout.Split('\n');
        int start = Array.FindIndex(lines, l => l.StartsWith("# Dicom-Data-Set", StringComparison.Ordinal));
        return string.Join('\n', lines[(start + 1)..]
            .Where(l => !l.StartsWith("# Used TransferSyntax", StringComparison.Ordinal) && !l.Contains("DelimitationItem", StringComparison.Ordinal))
            .Select(l => l.Contains(" SQ (Sequence with ", StringComparison.Ordinal) || l.Contains(" na (Item with ", StringComparison.Ordinal)
                ? System.Text.RegularExpressions.Regex.Replace(l[..l.LastIndexOf('#')], "(explicit|undefined) length ", "").TrimEnd()
                : l));
    }
}
