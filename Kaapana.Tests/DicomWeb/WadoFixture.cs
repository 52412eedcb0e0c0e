using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Kaapana.Dicom;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Interop;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.DicomWeb;

/// <summary>The WADO test classes share one seeded server.</summary>
[CollectionDefinition(Name)]
public sealed class WadoCollection : ICollectionFixture<WadoFixture>
{
    public const string Name = "WADO-RS server";
}

/// <summary>An archived instance the WADO tests know: where its file lives and how it is encoded.</summary>
public sealed record WadoInstance(string Study, string Series, string Sop, string TransferSyntax, int Frames, int Rows, int Columns, string ArchivedPath, string Origin)
{
    public string Uri => $"/dicomweb/studies/{Study}/series/{Series}/instances/{Sop}";
    public bool IsEncapsulated => DicomTransferSyntax.Lookup(TransferSyntax).IsEncapsulated;
    public override string ToString() => $"{Origin} ({TransferSyntax})";
}

/// <summary>
/// One real server (child process) seeded through <c>POST /api/uploads</c> with: a synthetic CT study of two series (one of
/// 4 CTs, one of 2 MRs), a synthetic study of CTs compressed by DCMTK (JPEG-LS, JPEG lossless, RLE), and pydicom sample
/// files in other syntaxes (JPEG 2000, JPEG baseline and extended, RLE multi-frame, implicit VR multi-frame, big endian).
/// </summary>
public sealed class WadoFixture() : DicomWebServerFixture("wado")
{
    public const string SampleDir = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    public static readonly string[] Samples =
    [
        "CT_small.dcm", "JPEG2000.dcm", "JPGExtended.dcm", "MR_small_RLE.dcm", "SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_rle_2frame.dcm",
        "rtdose.dcm", "ExplVR_BigEnd.dcm",
    ];

    public List<WadoInstance> Instances { get; } = [];
    public string SyntheticStudy { get; } = TestInstances.NewUid();
    public string CompressedStudy { get; } = TestInstances.NewUid();

    protected override async Task SeedAsync()
    {
        var origins = new Dictionary<string, string>();
        var uploads = new List<(string Name, byte[] Bytes)>();

        string ctSeries = TestInstances.NewUid(), mrSeries = TestInstances.NewUid();
        for (int i = 1; i <= 4; i++)
            uploads.Add(Synthetic($"ct{i}.dcm", new TestInstances.Spec("WADO-1", "Wado^Synthetic", SyntheticStudy, ctSeries, TestInstances.NewUid(),
                InstanceNumber: i, Size: 64, SeriesNumber: 1), origins));
        for (int i = 1; i <= 2; i++)
            uploads.Add(Synthetic($"mr{i}.dcm", new TestInstances.Spec("WADO-1", "Wado^Synthetic", SyntheticStudy, mrSeries, TestInstances.NewUid(),
                Modality: "MR", InstanceNumber: i, Size: 32, SeriesNumber: 2), origins));

        // DCMTK compresses synthetic CTs (each its own instance, so every UID is stored once).
        string compressedSeries = TestInstances.NewUid();
        var tools = new[] { ("dcmcjpls", "jpeg-ls"), ("dcmcjpeg", "jpeg-lossless"), ("dcmcrle", "rle") };
        for (int i = 0; i < tools.Length; i++)
        {
            var (tool, label) = tools[i];
            var spec = new TestInstances.Spec("WADO-2", "Wado^Compressed", CompressedStudy, compressedSeries, TestInstances.NewUid(), InstanceNumber: i + 1, Size: 64);
            var plain = Path.Combine(Root, $"{label}-plain.dcm");
            var packed = Path.Combine(Root, $"{label}.dcm");
            await File.WriteAllBytesAsync(plain, TestInstances.Create(spec));
            (await Peers.RunDcmtkAsync(tool, [plain, packed])).EnsureSuccess(tool);
            uploads.Add(($"{label}.dcm", await File.ReadAllBytesAsync(packed)));
            origins[spec.SopUid] = $"synthetic CT via {tool}";
        }

        foreach (var name in Samples)
        {
            var path = Path.Combine(SampleDir, name);
            if (!File.Exists(path))
                throw new InvalidOperationException($"Sample file {path} is missing: install the Debian package python3-pydicom (apt-get install python3-pydicom).");
            uploads.Add((name, await File.ReadAllBytesAsync(path)));
            origins[DicomFile.Open(path).Dataset.GetString(DicomTags.SOPInstanceUID)] = "pydicom " + name;
        }

        using var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in uploads)
            form.Add(new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/dicom") } }, "files", name);
        using var response = await Http.PostAsync("/api/uploads", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Seeding answered {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        Assert.All(json.RootElement.GetProperty("files").EnumerateArray(), f => Assert.Equal("stored", f.GetProperty("status").GetString()));

        await using var db = Server.OpenIndex();
        var rows = await db.Instances.AsNoTracking()
            .Select(i => new { Study = i.Series.Study.StudyInstanceUID, Series = i.Series.SeriesInstanceUID, i.SOPInstanceUID, i.TransferSyntaxUID, i.NumberOfFrames, i.Rows, i.Columns, i.StoragePath })
            .ToListAsync();
        foreach (var r in rows)
            Instances.Add(new WadoInstance(r.Study, r.Series, r.SOPInstanceUID, r.TransferSyntaxUID, r.NumberOfFrames ?? 1, r.Rows ?? 0, r.Columns ?? 0,
                Path.Combine(Server.ArchiveDir, r.StoragePath.Replace('/', Path.DirectorySeparatorChar)), origins[r.SOPInstanceUID]));
        Assert.Equal(uploads.Count, Instances.Count);
    }

    private static (string, byte[]) Synthetic(string name, TestInstances.Spec spec, Dictionary<string, string> origins)
    {
        origins[spec.SopUid] = "synthetic " + name;
        return (name, TestInstances.Create(spec));
    }

    /// <summary>A scratch folder inside the fixture's (removed with it).</summary>
    public string ScratchDir(string name) => Directory.CreateDirectory(Path.Combine(Root, "scratch", name + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public WadoInstance Find(string originContains) => Instances.Single(i => i.Origin.Contains(originContains, StringComparison.Ordinal));
}
