using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Kaapana.Dicom;
using Kaapana.Dicom.Json;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.DicomWeb;

/// <summary>QIDO-RS against the real server: same answers as C-FIND (DCMTK findscu), paging, fuzzy names, includefield, errors.</summary>
public sealed class QidoTests(QidoFixture fx) : IClassFixture<QidoFixture>
{
    private const string Base = "/dicomweb";
    private const string AdditionalResults = "\"There are additional results that can be requested\"";

    // PS3.18 Tables 10.6.3-3..5, written out here rather than taken from the server.
    private static readonly string[] StudyDefaults = ["StudyDate", "StudyTime", "AccessionNumber", "InstanceAvailability", "ModalitiesInStudy",
        "ReferringPhysicianName", "TimezoneOffsetFromUTC", "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
        "StudyID", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"];
    private static readonly string[] SeriesDefaults = ["Modality", "TimezoneOffsetFromUTC", "SeriesDescription", "SeriesInstanceUID", "SeriesNumber",
        "NumberOfSeriesRelatedInstances", "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime"];
    private static readonly string[] InstanceDefaults = ["SOPClassUID", "SOPInstanceUID", "InstanceAvailability", "TimezoneOffsetFromUTC",
        "InstanceNumber", "Rows", "Columns", "BitsAllocated", "NumberOfFrames"];

    private sealed record Response(HttpStatusCode Status, string Body, IReadOnlyList<string> Warnings, string? ContentType)
    {
        public IReadOnlyList<DicomDataset> Results => DicomJsonReader.ParseArray(Body);
    }

    private async Task<Response> GetAsync(string url, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Base + url);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var r = await fx.Http.SendAsync(request);
        var warnings = r.Headers.TryGetValues("Warning", out var w) ? w.ToList() : [];
        return new Response(r.StatusCode, await r.Content.ReadAsStringAsync(), warnings, r.Content.Headers.ContentType?.MediaType);
    }

    private async Task<IReadOnlyList<DicomDataset>> QidoAsync(string url)
    {
        var r = await GetAsync(url);
        Assert.True(r.Status == HttpStatusCode.OK, $"GET {url}: {(int)r.Status} {r.Body}\n{fx.Server.Output}");
        Assert.Equal("application/dicom+json", r.ContentType);
        return r.Results;
    }

    /// <summary>findscu, Study Root, with the given keys; the response identifiers it wrote.</summary>
    private async Task<List<DicomDataset>> FindScuAsync(IEnumerable<string> keys)
    {
        var dir = Directory.CreateTempSubdirectory("qido-findscu-").FullName;
        try
        {
            var args = new List<string> { "-S", "-aec", "KAAPANA", "-X", "-od", dir };
            foreach (var k in keys) args.AddRange(["-k", k]);
            args.AddRange(["127.0.0.1", fx.Server.DicomPort.ToString(CultureInfo.InvariantCulture)]);
            var r = await DicomTools.RunAsync("findscu", [.. args]);
            Assert.True(r.ExitCode == 0 && !r.Output.Contains("E: "), $"findscu {string.Join(' ', keys)}: {r}");
            return Directory.GetFiles(dir, "rsp*.dcm").Select(f => DicomFile.Open(f).Dataset).ToList();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Every non-sequence attribute as "VR:values" (padding trimmed), except those given.</summary>
    private static SortedDictionary<DicomTag, string> Attributes(DicomDataset ds, params DicomTag[] except)
    {
        var map = new SortedDictionary<DicomTag, string>();
        foreach (var e in ds)
        {
            if (e is DicomSequence || except.Contains(e.Tag)) continue;
            map[e.Tag] = $"{e.VR}:{string.Join('\\', ds.GetStrings(e.Tag).Select(v => v.Trim()))}";
        }
        return map;
    }

    private static string Uid(DicomDataset ds, string level) => ds.GetString(level switch
    {
        "STUDY" => DicomTags.StudyInstanceUID,
        "SERIES" => DicomTags.SeriesInstanceUID,
        _ => DicomTags.SOPInstanceUID,
    });

    public static TheoryData<string, string, string[], string[], string?, string?, int> Cases()
    {
        // (name, level, matching keys, includefields, study in path, series in path, expected count: -1 = computed in the test)
        return new TheoryData<string, string, string[], string[], string?, string?, int>
        {
            { "studies by lower-case name wildcard", "STUDY", ["PatientName=qido^p1*"], [], null, null, 2 },
            { "studies by date range", "STUDY", ["StudyDate=20231201-20240101"], ["StudyDescription"], null, null, 4 },
            { "studies by modality in study", "STUDY", ["ModalitiesInStudy=MR"], [], null, null, 7 },
            { "studies with all defaults, none matching", "STUDY", ["StudyDate=19000101-19001231"], [], null, null, 0 },
            { "series across studies by modality and date", "SERIES", ["Modality=MR", "StudyDate=20240102"], ["BodyPartExamined", "Manufacturer"], null, null, 3 },
            { "series across studies by name wildcard", "SERIES", ["PatientName=*LLER^h*"], [], null, null, 1 },
            { "series of a study by UID list", "SERIES", ["SeriesInstanceUID=$series0\\$series1"], [], "$study", null, 2 },
            { "instances of a series by instance number", "IMAGE", ["InstanceNumber=2"], [], "$study", "$series0", 1 },
            { "instances of a study by SOP class", "IMAGE", ["SOPClassUID=1.2.840.10008.5.1.4.1.1.2"], [], "$study", null, 3 },
            { "instances across the archive by modality and patient", "IMAGE", ["Modality=CT", "PatientID=PID-MUELLER"], ["StudyDescription"], null, null, 2 },
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Qido_answers_exactly_what_c_find_answers_for_the_same_keys(string name, string level, string[] match, string[] include,
        string? studyInPath, string? seriesInPath, int expectedCount)
    {
        // A study of a generated patient with its two series, for the cases that name UIDs.
        var study = fx.Instances.First(i => i.PatientName == "Qido^P0").Study;
        var series = fx.Instances.Where(i => i.Study == study).Select(i => i.Series).Distinct().ToList();
        string Subst(string s) => s.Replace("$study", study).Replace("$series0", series[0]).Replace("$series1", series[1]);
        match = match.Select(Subst).ToArray();
        studyInPath = studyInPath is null ? null : Subst(studyInPath);
        seriesInPath = seriesInPath is null ? null : Subst(seriesInPath);

        var (path, defaults) = level switch
        {
            "STUDY" => ("/studies", StudyDefaults),
            "SERIES" => (studyInPath is null ? "/series" : $"/studies/{studyInPath}/series", studyInPath is null ? [.. SeriesDefaults, .. StudyDefaults] : SeriesDefaults),
            _ => (studyInPath is null ? "/instances" : seriesInPath is null ? $"/studies/{studyInPath}/instances" : $"/studies/{studyInPath}/series/{seriesInPath}/instances",
                InstanceDefaults.Concat(studyInPath is null ? StudyDefaults : []).Concat(seriesInPath is null ? SeriesDefaults : []).ToArray()),
        };
        var query = string.Join('&', match.Select(m => m.Split('=', 2)).Select(kv => $"{kv[0]}={Uri.EscapeDataString(kv[1])}")
            .Concat(include.Select(i => $"includefield={i}")));
        var qido = await QidoAsync($"{path}?{query}");

        var keys = new List<string> { $"QueryRetrieveLevel={level}" };
        keys.AddRange(match);
        if (studyInPath is not null) keys.Add($"StudyInstanceUID={studyInPath}");
        if (seriesInPath is not null) keys.Add($"SeriesInstanceUID={seriesInPath}");
        var matched = keys.Select(k => k.Split('=')[0]).ToHashSet();
        keys.AddRange(defaults.Concat(include).Distinct().Where(k => !matched.Contains(k)));
        var cfind = await FindScuAsync(keys);

        Assert.Equal(expectedCount, qido.Count);
        Assert.Equal(cfind.Select(d => Uid(d, level)).Order(), qido.Select(d => Uid(d, level)).Order());
        var byUid = cfind.ToDictionary(d => Uid(d, level));
        foreach (var q in qido)
        {
            var c = byUid[Uid(q, level)];
            var expected = Attributes(c, DicomTags.QueryRetrieveLevel, DicomTags.SpecificCharacterSet);
            var actual = Attributes(q, DicomTags.RetrieveURL, DicomTags.SpecificCharacterSet);
            Assert.True(expected.SequenceEqual(actual), $"{name}: {Uid(q, level)}\nC-FIND: {string.Join("; ", expected)}\nQIDO:   {string.Join("; ", actual)}");

            // Retrieve URL points at the WADO-RS resource of the result.
            var url = $"{fx.Server.BaseAddress.ToString().TrimEnd('/')}{Base}/studies/{q.GetString(DicomTags.StudyInstanceUID)}";
            if (level != "STUDY") url += $"/series/{q.GetString(DicomTags.SeriesInstanceUID)}";
            if (level == "IMAGE") url += $"/instances/{q.GetString(DicomTags.SOPInstanceUID)}";
            Assert.Equal(url, q.GetString(DicomTags.RetrieveURL));
        }
    }

    [Fact]
    public async Task Study_results_carry_the_index_values_and_counts()
    {
        var results = await QidoAsync("/studies?PatientID=PID-MUELLER");
        var s = Assert.Single(results);
        Assert.Equal("Müller^Hans", s.GetString(DicomTags.PatientName));
        Assert.Equal("20231231", s.GetString(DicomTags.StudyDate));
        Assert.Equal("CT", s.GetString(DicomTags.ModalitiesInStudy));
        Assert.Equal("1", s.GetString(DicomTags.NumberOfStudyRelatedSeries));
        Assert.Equal("2", s.GetString(DicomTags.NumberOfStudyRelatedInstances));
        Assert.Equal("ONLINE", s.GetString(DicomTags.InstanceAvailability));
        Assert.False(s.Contains(DicomTags.StudyDescription)); // not a default, not asked for
    }

    [Fact]
    public async Task Includefield_repeated_comma_separated_by_tag_or_keyword_and_all()
    {
        var one = Assert.Single(await QidoAsync("/studies?PatientID=PID-MUELLER&includefield=StudyDescription,00180015&includefield=00081030"));
        Assert.Equal("Generated study", one.GetString(DicomTags.StudyDescription));
        Assert.True(one.Contains(DicomTags.BodyPartExamined)); // a series attribute: asked for, answered empty as C-FIND does
        Assert.Equal("", one.GetString(DicomTags.BodyPartExamined));

        var all = Assert.Single(await QidoAsync("/series?PatientID=PID-MUELLER&includefield=all"));
        Assert.Equal("Generated study", all.GetString(DicomTags.StudyDescription));
        Assert.Equal("CHEST", all.GetString(DicomTags.BodyPartExamined));
        Assert.Equal("Kaapana Test", all.GetString(DicomTags.Manufacturer));
        Assert.Equal("Synth 1", all.GetString(DicomTags.ManufacturerModelName));
        Assert.Equal("19700101", all.GetString(DicomTags.PatientBirthDate));
        Assert.False(all.Contains(DicomTags.SOPInstanceUID)); // instance attributes are not part of a series' "all"
    }

    [Fact]
    public async Task The_study_list_query_OHIF_sends_is_answered()
    {
        // OHIF 3's study list (FIELD-NOTES): limit, offset, fuzzymatching, includefield of Study Description and Modality.
        var r = await GetAsync("/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060", "application/dicom+json");
        Assert.True(r.Status == HttpStatusCode.OK, r.Body);
        var studies = r.Results;
        Assert.Equal(fx.Instances.Select(i => i.Study).Distinct().Order(), studies.Select(s => s.GetString(DicomTags.StudyInstanceUID)).Order());
        Assert.All(studies, s => Assert.True(s.Contains(DicomTags.StudyDescription) && s.Contains(DicomTags.Modality)));
        Assert.Empty(r.Warnings);
    }

    public static TheoryData<string> PagedQueries() => new() { "/instances?", "/instances?Modality=CT&", "/instances?PatientName=qido*&", "/series?StudyDate=20240101-&" };

    [Theory]
    [MemberData(nameof(PagedQueries))]
    public async Task Limit_and_offset_page_through_the_whole_set_without_overlap(string query)
    {
        var whole = (await QidoAsync(query + "limit=10000")).Select(d => d.GetString(DicomTags.SeriesInstanceUID) + "/" + d.GetString(DicomTags.SOPInstanceUID)).ToList();
        Assert.True(whole.Count > 5, $"{query}: only {whole.Count} results");
        var pages = new List<string>();
        for (int offset = 0; ; offset += 4)
        {
            var r = await GetAsync($"{query}limit=4&offset={offset}");
            Assert.Equal(HttpStatusCode.OK, r.Status);
            var page = r.Results.Select(d => d.GetString(DicomTags.SeriesInstanceUID) + "/" + d.GetString(DicomTags.SOPInstanceUID)).ToList();
            pages.AddRange(page);
            bool more = r.Warnings.Any(w => w.StartsWith("299 ", StringComparison.Ordinal) && w.EndsWith(AdditionalResults, StringComparison.Ordinal));
            Assert.Equal(offset + 4 < whole.Count, more);
            if (!more)
            {
                Assert.Equal(whole.Count - offset, page.Count);
                break;
            }
            Assert.Equal(4, page.Count);
        }
        Assert.Equal(whole, pages); // same order, nothing twice, nothing missing
        Assert.Empty((await QidoAsync($"{query}offset={whole.Count}")));
    }

    [Fact]
    public async Task Without_limit_the_configured_maximum_applies_and_the_rest_is_announced()
    {
        var r = await GetAsync("/instances");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(fx.Instances.Count, r.Results.Count); // below the default maximum (10,000)
        Assert.DoesNotContain(r.Warnings, w => w.Contains(AdditionalResults, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Fuzzy_matching_finds_name_word_prefixes_ignoring_case_and_diacritics()
    {
        async Task<List<string>> Names(string q) => (await QidoAsync("/studies?" + q)).Select(d => d.GetString(DicomTags.PatientName)).Distinct().Order().ToList();

        Assert.Equal(["Müller^Hans"], await Names("PatientName=mull&fuzzymatching=true"));
        Assert.Equal(["Müller^Hans"], await Names("PatientName=hans%20mü&fuzzymatching=true"));
        Assert.Equal(["Müller^Hans"], await Names("PatientName=H%5EMuller&fuzzymatching=true"));
        Assert.Equal(["Qido^P0", "Qido^P1", "Qido^P2"], await Names("PatientName=qid&fuzzymatching=true"));
        Assert.Equal(["Qido^P2"], await Names("PatientName=p2&fuzzymatching=true"));
        Assert.Empty(await Names("PatientName=ller&fuzzymatching=true")); // a prefix of a word, not any substring
        // Literal matching (the default) wants the whole name.
        Assert.Empty(await Names("PatientName=mull"));
        Assert.Empty(await Names("PatientName=mull&fuzzymatching=false"));
        Assert.Equal(["Müller^Hans"], await Names("PatientName=müller^hans"));
        // Other person names too: the generated studies' referring physician is Doe^Jane.
        Assert.Equal(7, (await QidoAsync("/studies?ReferringPhysicianName=jan&fuzzymatching=true")).Count);
    }

    [Fact]
    public async Task No_match_is_200_with_an_empty_array()
    {
        var r = await GetAsync("/studies?PatientID=NOBODY");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("application/dicom+json", r.ContentType);
        Assert.Equal("[]", r.Body);
        r = await GetAsync("/studies/1.2.3.999/series");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("[]", r.Body);
    }

    [Fact]
    public async Task Keys_without_an_index_column_are_ignored_with_a_warning()
    {
        var r = await GetAsync("/series?ProtocolName=Nothing%20like%20this&PatientID=PID-MUELLER");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Single(r.Results);
        Assert.Contains(r.Warnings, w => w.StartsWith("299 ", StringComparison.Ordinal) && w.Contains("ProtocolName", StringComparison.Ordinal));
    }

    public static TheoryData<string?> GoodAccept() => new() { null, "application/dicom+json", "application/json", "*/*", "application/*",
        "text/html, application/dicom+json;q=0.5" };

    [Theory]
    [MemberData(nameof(GoodAccept))]
    public async Task Accepts_dicom_json_json_and_wildcards(string? accept)
    {
        var r = await GetAsync("/studies?PatientID=PID-MUELLER", accept);
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Single(r.Results);
    }

    [Theory]
    [InlineData("application/dicom+xml")]
    [InlineData("multipart/related; type=\"application/dicom+xml\"")]
    [InlineData("text/html")]
    [InlineData("application/dicom+json;q=0")]
    public async Task Other_media_types_are_406(string accept)
    {
        var r = await GetAsync("/studies", accept);
        Assert.Equal(HttpStatusCode.NotAcceptable, r.Status);
        Assert.Contains("application/dicom+json", ProblemDetail(r));
    }

    [Theory]
    [InlineData("/studies?NoSuchKeyword=1", "NoSuchKeyword")]
    [InlineData("/studies?0010001=1", "0010001")]
    [InlineData("/studies?00091001=x", "public attribute")]
    [InlineData("/studies?StudyDate=2024-01-01", "StudyDate")]
    [InlineData("/studies?StudyDate=20240230", "StudyDate")]
    [InlineData("/studies?limit=0", "limit")]
    [InlineData("/studies?limit=-3", "limit")]
    [InlineData("/studies?limit=ten", "limit")]
    [InlineData("/studies?limit=10001", "10000")]
    [InlineData("/studies?offset=-1", "offset")]
    [InlineData("/studies?offset=x", "offset")]
    [InlineData("/studies?includefield=NotAnAttribute", "includefield")]
    [InlineData("/studies?fuzzymatching=maybe", "fuzzymatching")]
    [InlineData("/studies?Modality=CT", "series-level")]
    [InlineData("/series?SOPInstanceUID=1.2.3", "an instance-level attribute")]
    [InlineData("/studies?PatientID=a&PatientID=b", "PatientID")]
    [InlineData("/studies?StudyInstanceUID=1.2.x", "not a UID")]
    [InlineData("/studies/1.2.3/series?StudyInstanceUID=1.2.3", "path")]
    [InlineData("/studies/not-a-uid/series", "not-a-uid")]
    [InlineData("/series?RequestAttributesSequence=x", "is a sequence")]
    public async Task Bad_parameters_are_400_with_a_message(string url, string mentions)
    {
        var r = await GetAsync(url);
        Assert.True(r.Status == HttpStatusCode.BadRequest, $"GET {url}: {(int)r.Status} {r.Body}");
        Assert.Contains(mentions, ProblemDetail(r), StringComparison.OrdinalIgnoreCase);
    }

    private static string ProblemDetail(Response r)
    {
        using var doc = JsonDocument.Parse(r.Body);
        return doc.RootElement.GetProperty("detail").GetString() ?? "";
    }
}
