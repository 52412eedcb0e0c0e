using System.Net;
using System.Text.Json;

namespace Kaapana.Tests.DicomWeb;

/// <summary>Unknown or mismatched UIDs, bad frame lists, parameters and Accept headers: a 4xx with a message, never a 500.</summary>
[Collection(WadoCollection.Name)]
public class WadoErrorTests(WadoFixture fixture)
{
    private async Task AssertProblemAsync(string uri, HttpStatusCode status, string messageContains, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await fixture.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{uri} (Accept {accept}): expected {(int)status}, got {(int)response.StatusCode} {body}");
        var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString();
        Assert.Contains(messageContains, detail);
    }

    [Fact]
    public async Task Unknown_and_mismatched_UIDs_are_404_with_a_message_on_every_resource()
    {
        var a = fixture.Find("synthetic ct1");
        var other = fixture.Find("pydicom CT_small.dcm");
        foreach (var suffix in new[] { "", "/metadata", "/rendered", "/thumbnail" })
        {
            await AssertProblemAsync($"/dicomweb/studies/1.2.3.4.5{suffix}", HttpStatusCode.NotFound, "The study is not in the archive");
            // A real series UID under the wrong study.
            await AssertProblemAsync($"/dicomweb/studies/{a.Study}/series/{other.Series}{suffix}", HttpStatusCode.NotFound, "The series is not in this study");
            // A real instance under the wrong series.
            await AssertProblemAsync($"/dicomweb/studies/{a.Study}/series/{a.Series}/instances/{other.Sop}{suffix}", HttpStatusCode.NotFound, "The instance is not in this series");
        }
        await AssertProblemAsync($"/dicomweb/studies/{a.Study}/series/{a.Series}/instances/9.9.9/frames/1", HttpStatusCode.NotFound, "The instance is not in this series");
        await AssertProblemAsync($"/dicomweb/studies/{a.Study}/series/{a.Series}/instances/9.9.9/bulkdata/7FE00010", HttpStatusCode.NotFound, "The instance is not in this series");
    }

    [Fact]
    public async Task Bad_frame_lists_are_400_and_frames_out_of_range_404()
    {
        var a = fixture.Find("synthetic ct1");
        foreach (var list in new[] { "0", "a", "1,,2", "-1", "1.5" })
            await AssertProblemAsync($"{a.Uri}/frames/{list}", HttpStatusCode.BadRequest, "is not a frame list");
        await AssertProblemAsync($"{a.Uri}/frames/1,2", HttpStatusCode.NotFound, "Frame 2 is out of range: the instance has 1 frame(s)");
        await AssertProblemAsync($"{a.Uri}/frames/2/rendered", HttpStatusCode.NotFound, "Frame 2 is out of range");
        await AssertProblemAsync($"{a.Uri}/frames/1,2/rendered", HttpStatusCode.BadRequest, "not one frame number");
    }

    [Fact]
    public async Task Unacceptable_Accept_headers_are_406()
    {
        var a = fixture.Find("synthetic ct1");
        await AssertProblemAsync(a.Uri, HttpStatusCode.NotAcceptable, "multipart/related", "text/html");
        await AssertProblemAsync(a.Uri, HttpStatusCode.NotAcceptable, "multipart/related", "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.3.4");
        await AssertProblemAsync(a.Uri, HttpStatusCode.NotAcceptable, "multipart/related", "application/dicom+json");
        await AssertProblemAsync(a.Uri + "/metadata", HttpStatusCode.NotAcceptable, "application/dicom+json", "application/xml");
        await AssertProblemAsync(a.Uri + "/frames/1", HttpStatusCode.NotAcceptable, "Frames of this instance", "multipart/related; type=\"application/octet-stream\"; transfer-syntax=1.2.840.10008.1.2.4.91");
        await AssertProblemAsync(a.Uri + "/frames/1", HttpStatusCode.NotAcceptable, "Frames of this instance", "image/gif");
        await AssertProblemAsync(a.Uri + "/rendered", HttpStatusCode.NotAcceptable, "image/jpeg or image/png", "image/gif");
        await AssertProblemAsync(a.Uri + "/thumbnail", HttpStatusCode.NotAcceptable, "image/jpeg or image/png", "application/dicom");
    }

    [Fact]
    public async Task Malformed_rendering_parameters_are_400()
    {
        var a = fixture.Find("synthetic ct1");
        await AssertProblemAsync(a.Uri + "/rendered?window=abc", HttpStatusCode.BadRequest, "window='abc'");
        await AssertProblemAsync(a.Uri + "/rendered?window=40,0", HttpStatusCode.BadRequest, "width above 0");
        await AssertProblemAsync(a.Uri + "/rendered?window=40,400,cubic", HttpStatusCode.BadRequest, "not linear, linear-exact or sigmoid");
        await AssertProblemAsync(a.Uri + "/rendered?viewport=0,10", HttpStatusCode.BadRequest, "viewport='0,10'");
        await AssertProblemAsync(a.Uri + "/rendered?quality=101", HttpStatusCode.BadRequest, "quality='101'");
    }
}
