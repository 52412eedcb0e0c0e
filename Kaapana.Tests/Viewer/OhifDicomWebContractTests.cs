using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Kaapana.Dicom;
using Kaapana.Tests.Dicom.Imaging;
using Microsoft.AspNetCore.WebUtilities;

namespace Kaapana.Tests.Viewer;

/// <summary>
/// The DICOMweb requests OHIF 3.13.2 makes to open a study with a SEG, replayed byte for byte (URLs and Accept headers as
/// recorded from Chromium in <see cref="ViewerBrowserTests"/>), without a browser: a failure here names the request that
/// broke. Note the frames Accept header: Cornerstone sends <c>type=application/octet-stream</c> unquoted, which strict
/// media-type parsers reject (the slash is not a token character).
/// </summary>
[Collection(ViewerCollection.Name)]
public sealed class OhifDicomWebContractTests
{
    private const string Json = "application/dicom+json";
    private const string FramesAccept = "multipart/related; type=application/octet-stream; transfer-syntax=*";
    private const string InstanceAccept = "multipart/related; type=\"application/dicom\"";
    private const int Slices = 3, Size = 64;

    [Fact]
    public async Task OhifRequestsForAStudyWithASegAreAnswered()
    {
        await using var server = await ViewerServer.StartAsync(new Dictionary<string, string> { ["Kaapana__Viewer__Enabled"] = "false" });
        var ct = SyntheticCt.Series(Slices, Size);
        var seg = ViewerBrowserTests.Segmentation(ct, Slices, Size);
        await ViewerBrowserTests.UploadAsync(server, [.. ct, seg]);
        var ds = ct[0].Dataset;
        string study = ds.Get<string>(DicomTags.StudyInstanceUID)!, series = ds.Get<string>(DicomTags.SeriesInstanceUID)!;
        string instance = ds.Get<string>(DicomTags.SOPInstanceUID)!;
        string segSeries = seg.Dataset.Get<string>(DicomTags.SeriesInstanceUID)!, segInstance = seg.Dataset.Get<string>(DicomTags.SOPInstanceUID)!;
        const string studyFields = "includefield=00081030%2C00080060%2C00080090%2C00100030";

        // Study list / study lookup (QIDO-RS).
        using (var byUid = await GetJsonAsync(server, $"/dicomweb/studies?limit=101&offset=0&fuzzymatching=true&{studyFields}&StudyInstanceUID={study}"))
        {
            var match = Assert.Single(byUid.RootElement.EnumerateArray());
            Assert.Equal(study, match.GetProperty("0020000D").GetProperty("Value")[0].GetString());
        }
        using (var byPatient = await GetJsonAsync(server, $"/dicomweb/studies?00100020=PHANTOM01&limit=101&offset=0&fuzzymatching=true&{studyFields}"))
        {
            Assert.Contains(byPatient.RootElement.EnumerateArray(), s => s.GetProperty("0020000D").GetProperty("Value")[0].GetString() == study);
        }
        using (var seriesList = await GetJsonAsync(server, $"/dicomweb/studies/{study}/series?includefield=00080021%2C00080031%2C0008103E%2C00200011"))
        {
            var modalities = seriesList.RootElement.EnumerateArray().Select(s => s.GetProperty("00080060").GetProperty("Value")[0].GetString()).Order();
            Assert.Equal(["CT", "SEG"], modalities);
        }

        // Series metadata (WADO-RS), one array entry per instance.
        using (var metadata = await GetJsonAsync(server, $"/dicomweb/studies/{study}/series/{series}/metadata"))
        {
            Assert.Equal(Slices, metadata.RootElement.GetArrayLength());
        }
        using (var segMetadata = await GetJsonAsync(server, $"/dicomweb/studies/{study}/series/{segSeries}/metadata"))
        {
            Assert.Equal(1, segMetadata.RootElement.GetArrayLength());
        }

        // A frame as stored (native 16-bit here), with Cornerstone's unquoted Accept header.
        var framePart = Assert.Single(await GetMultipartAsync(server, $"/dicomweb/studies/{study}/series/{series}/instances/{instance}/frames/1", FramesAccept));
        Assert.Equal("application/octet-stream", framePart.ContentType.MediaType);
        Assert.Equal(Size * Size * 2, framePart.Body.Length);

        // The SEG as a whole Part 10 instance.
        var segPart = Assert.Single(await GetMultipartAsync(server, $"/dicomweb/studies/{study}/series/{segSeries}/instances/{segInstance}", InstanceAccept));
        Assert.Equal("application/dicom", segPart.ContentType.MediaType);
        Assert.Equal("DICM", System.Text.Encoding.ASCII.GetString(segPart.Body, 128, 4));
    }

    private static async Task<JsonDocument> GetJsonAsync(ViewerServer server, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", Json);
        using var response = await server.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url} (Accept: {Json}): {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }

    private sealed record Part(MediaTypeHeaderValue ContentType, byte[] Body);

    private static async Task<List<Part>> GetMultipartAsync(ViewerServer server, string url, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", accept); // as sent, not normalised by HttpClient
        using var response = await server.Http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET {url} (Accept: {accept}): {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var type = response.Content.Headers.ContentType!;
        Assert.Equal("multipart/related", type.MediaType);
        string boundary = type.Parameters.Single(p => p.Name == "boundary").Value!.Trim('"');
        var reader = new MultipartReader(boundary, await response.Content.ReadAsStreamAsync());
        var parts = new List<Part>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            var body = new MemoryStream();
            await section.Body.CopyToAsync(body);
            parts.Add(new Part(MediaTypeHeaderValue.Parse(section.ContentType!), body.ToArray()));
        }
        return parts;
    }
}
