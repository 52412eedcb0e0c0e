using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Kaapana.Dicom.Network.Query;
using Kaapana.Tests.Interop;

namespace Kaapana.Tests.Dicom.Network.Query;

/// <summary>
/// Orthanc (in its namespace) loaded by our C-STORE SCU with the synthetic data and two pydicom files, plus our storage SCP
/// listening as <see cref="OrthancFixture.StoreScpAeTitle"/> on the host side of the link for C-MOVE.
/// </summary>
public sealed class OrthancQueryRetrieveFixture : IAsyncLifetime
{
    private readonly OrthancFixture _orthanc = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("kaapana-qr-orthanc-").FullName;

    public OrthancPeer Orthanc => _orthanc.Orthanc;
    public IReadOnlyList<QueryTestData.Instance> Data { get; private set; } = [];
    public IReadOnlyList<string> Files { get; private set; } = [];
    public IReadOnlyList<DicomStoreResult> StoreResults { get; private set; } = [];
    public CollectingStoreScp StoreScp { get; } = new();

    public DicomClient Client => new(new DicomClientOptions
    {
        Host = Orthanc.DicomEndpoint.Host,
        Port = Orthanc.DicomEndpoint.Port,
        CalledAE = Orthanc.DicomEndpoint.AeTitle,
        CallingAE = OrthancFixture.ScuAeTitle,
    });

    public async Task InitializeAsync()
    {
        await _orthanc.InitializeAsync();
        Data = QueryTestData.Write(_dir);
        var samples = new[] { "CT_small.dcm", "MR_small.dcm" }.Select(n =>
        {
            var copy = Path.Combine(_dir, "sample-" + n);
            File.Copy(OrthancFixtureTests.SampleFile(n), copy);
            return copy;
        });
        Files = Data.Select(d => d.Path).Concat(samples).ToArray();
        StoreResults = await Client.StoreFilesAsync(Files);
        var ep = _orthanc.StoreScpEndpoint;
        await StoreScp.StartAsync(_orthanc.HostAddress, ep.Port, ep.AeTitle);
    }

    public async Task DisposeAsync()
    {
        await StoreScp.DisposeAsync();
        await _orthanc.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>Our SCU against Orthanc 1.10.1: C-ECHO, C-STORE, C-FIND at every level, C-MOVE to our SCP, C-GET.</summary>
public class QueryRetrieveOrthancTests(OrthancQueryRetrieveFixture fx) : IClassFixture<OrthancQueryRetrieveFixture>
{
    private static readonly QueryRetrieveInformationModel StudyRoot = QueryRetrieveInformationModel.StudyRoot;

    private QueryTestData.Instance[] Study1 => fx.Data.Where(d => d.PatientId == "PAT001" && d.Modality == "CT").ToArray();

    private static DicomDataset Id(params (DicomTag Tag, string Value)[] keys) => DicomQueryMatchingTests.Ds(keys);

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var x in source) list.Add(x);
        return list;
    }

    [Fact]
    public async Task Echo() => Assert.Equal(DicomStatus.Success, await fx.Client.EchoAsync());

    [Fact]
    public async Task Store_put_every_file_into_orthanc()
    {
        Assert.All(fx.StoreResults, r => Assert.True(r.Succeeded, $"{r.Path}: {r.Status} {r.Error}"));
        var stored = await fx.Orthanc.ListSopInstanceUidsAsync();
        var sent = fx.Files.Select(f => DicomFile.Open(f, new DicomReadOptions { StopBeforePixelData = true }).Dataset.GetString(DicomTags.SOPInstanceUID));
        Assert.Equal(sent.Order(), stored.Order());
    }

    [Fact]
    public async Task Find_studies_by_name_and_date_range()
    {
        var studies = await ToListAsync(fx.Client.FindAsync(StudyRoot, QueryRetrieveLevel.Study, Id(
            (DicomTags.PatientName, "DOE*"), (DicomTags.StudyDate, "20200101-20211231"), (DicomTags.StudyInstanceUID, ""),
            (DicomTags.AccessionNumber, ""), (DicomTags.ModalitiesInStudy, ""))));
        Assert.Equal(["ACC001", "ACC002"], studies.Select(s => s.GetString(DicomTags.AccessionNumber)).Order());
        Assert.Equal(Study1[0].StudyUid, studies.Single(s => s.GetString(DicomTags.AccessionNumber) == "ACC001").GetString(DicomTags.StudyInstanceUID));
        Assert.Equal("MR", studies.Single(s => s.GetString(DicomTags.AccessionNumber) == "ACC002").GetString(DicomTags.ModalitiesInStudy));
    }

    [Fact]
    public async Task Find_patients_with_a_wildcard()
    {
        var patients = await ToListAsync(fx.Client.FindAsync(QueryRetrieveInformationModel.PatientRoot, QueryRetrieveLevel.Patient,
            Id((DicomTags.PatientID, "PAT00?"), (DicomTags.PatientName, ""))));
        Assert.Equal(["PAT001", "PAT002", "PAT003"], patients.Select(p => p.GetString(DicomTags.PatientID)).Order());
        Assert.Equal("Müller^Jürgen", patients.Single(p => p.GetString(DicomTags.PatientID) == "PAT003").GetString(DicomTags.PatientName));
    }

    [Fact]
    public async Task Find_series_and_instances()
    {
        var series = await ToListAsync(fx.Client.FindAsync(StudyRoot, QueryRetrieveLevel.Series, Id(
            (DicomTags.StudyInstanceUID, Study1[0].StudyUid), (DicomTags.SeriesInstanceUID, ""), (DicomTags.Modality, ""), (DicomTags.SeriesDescription, ""))));
        Assert.Equal(["Axial", "Coronal"], series.Select(s => s.GetString(DicomTags.SeriesDescription)).Order());

        var axial = Study1.Where(s => s.SeriesUid == Study1[0].SeriesUid).ToArray();
        var instances = await ToListAsync(fx.Client.FindAsync(StudyRoot, QueryRetrieveLevel.Image, Id(
            (DicomTags.StudyInstanceUID, axial[0].StudyUid), (DicomTags.SeriesInstanceUID, axial[0].SeriesUid), (DicomTags.SOPInstanceUID, ""),
            (DicomTags.InstanceNumber, ""))));
        Assert.Equal(axial.Select(a => a.SopUid).Order(), instances.Select(i => i.GetString(DicomTags.SOPInstanceUID)).Order());
        Assert.Equal(["1", "2", "3"], instances.Select(i => i.GetString(DicomTags.InstanceNumber)).Order());
    }

    [Fact]
    public async Task Move_from_orthanc_to_our_SCP_on_the_host_side_of_the_link()
    {
        var progress = await ToListAsync(fx.Client.MoveAsync(StudyRoot, QueryRetrieveLevel.Study,
            Id((DicomTags.StudyInstanceUID, Study1[0].StudyUid)), OrthancFixture.StoreScpAeTitle));
        var final = progress[^1];
        Assert.True(final.Status.IsSuccess, final.ToString());
        Assert.Equal((4, 0), (final.Completed, final.Failed));
        foreach (var instance in Study1)
        {
            Assert.True(fx.StoreScp.Instances.TryGetValue(instance.SopUid, out var received), instance.SopUid);
            Assert.Equal("ORTHANC", received.CallingAE);
            AssertSameContent(instance.Path, received.Part10);
        }
    }

    [Fact]
    public async Task Get_from_orthanc_with_role_selection()
    {
        var received = new Dictionary<string, byte[]>();
        var series = fx.Data.First(d => d.Modality == "MR");
        var progress = await ToListAsync(fx.Client.GetAsync(StudyRoot, QueryRetrieveLevel.Series,
            Id((DicomTags.StudyInstanceUID, series.StudyUid), (DicomTags.SeriesInstanceUID, series.SeriesUid)),
            async (request, ct) =>
            {
                var ms = new MemoryStream();
                await request.WritePart10Async(ms, ct);
                lock (received) received[request.SopInstanceUid] = ms.ToArray();
                return DicomStatus.Success;
            }));
        var final = progress[^1];
        Assert.True(final.Status.IsSuccess, final.ToString());
        var expected = fx.Data.Where(d => d.SeriesUid == series.SeriesUid).ToArray();
        Assert.Equal(expected.Select(e => e.SopUid).Order(), received.Keys.Order());
        foreach (var e in expected) AssertSameContent(e.Path, received[e.SopUid]);
    }

    /// <summary>Same identity, names and pixels (Orthanc may re-encode: compare decoded values, not bytes).</summary>
    private static void AssertSameContent(string originalPath, byte[] part10)
    {
        var a = DicomFile.Open(originalPath).Dataset;
        var b = DicomFile.Read(new MemoryStream(part10)).Dataset;
        foreach (var tag in new[] { DicomTags.SOPInstanceUID, DicomTags.SOPClassUID, DicomTags.PatientName, DicomTags.StudyInstanceUID, DicomTags.SeriesDescription })
            Assert.Equal(a.GetString(tag), b.GetString(tag));
        Assert.Equal(a.Get<byte[]>(DicomTags.PixelData), b.Get<byte[]>(DicomTags.PixelData));
    }
}
