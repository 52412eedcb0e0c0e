using System.Net;
using Kaapana.Dicom.Imaging.Rendering;

namespace Kaapana.Tests.DicomWeb;

/// <summary>Rendered resources and thumbnails: images that decode, in the size and format asked for.</summary>
[Collection(WadoCollection.Name)]
public class WadoRenderedTests(WadoFixture fixture)
{
    private async Task<(string MediaType, RenderedImage Image, byte[] Bytes)> GetImageAsync(string uri, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await fixture.Http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{uri}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(bytes)}");
        return (response.Content.Headers.ContentType!.MediaType!, ImageEncoder.Decode(bytes), bytes);
    }

    [Fact]
    public async Task Rendered_instances_decode_as_PNG_or_JPEG_at_their_own_size()
    {
        foreach (var instance in fixture.Instances.Where(i => i.Rows > 0))
        {
            var (type, png, bytes) = await GetImageAsync(instance.Uri + "/rendered", "image/png");
            Assert.Equal("image/png", type);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
            Assert.Equal((instance.Columns, instance.Rows), (png.Width, png.Height));
        }
        var ct = fixture.Find("synthetic ct1");
        var (jpegType, jpeg, jpegBytes) = await GetImageAsync(ct.Uri + "/rendered");
        Assert.Equal("image/jpeg", jpegType); // the default
        Assert.Equal([0xFF, 0xD8], jpegBytes[..2]);
        Assert.Equal((64, 64), (jpeg.Width, jpeg.Height));
    }

    [Fact]
    public async Task Viewport_window_quality_and_frame_are_honoured()
    {
        var ct = fixture.Find("synthetic ct1");
        var (_, small, _) = await GetImageAsync(ct.Uri + "/rendered?viewport=32,16", "image/png");
        Assert.Equal((16, 16), (small.Width, small.Height)); // fits the box, keeps the aspect ratio

        var (_, narrow, _) = await GetImageAsync(ct.Uri + "/rendered?window=100,10", "image/png");
        var (_, wide, _) = await GetImageAsync(ct.Uri + "/rendered?window=2048,4096,linear", "image/png");
        Assert.NotEqual(narrow.Pixels, wide.Pixels);
        // A 10-wide window at 100 leaves 12-bit noise black or white, but for the few values inside it.
        Assert.True(narrow.Pixels.Count(p => p is not (0 or 255)) < narrow.Pixels.Length / 100, "most pixels black or white");

        var (_, low, lowBytes) = await GetImageAsync(ct.Uri + "/rendered?quality=5");
        var (_, high, highBytes) = await GetImageAsync(ct.Uri + "/rendered?quality=100");
        Assert.True(lowBytes.Length < highBytes.Length, $"quality=5 gave {lowBytes.Length} bytes, quality=100 {highBytes.Length}");

        var multi = fixture.Find("pydicom SC_rgb_rle_2frame.dcm");
        var (_, frame1, _) = await GetImageAsync(multi.Uri + "/frames/1/rendered", "image/png");
        var (_, frame2, _) = await GetImageAsync(multi.Uri + "/frames/2/rendered", "image/png");
        Assert.True(frame1.IsColor);
        Assert.NotEqual(frame1.Pixels, frame2.Pixels);
    }

    [Fact]
    public async Task Series_and_study_render_and_thumbnails_fit_128()
    {
        var ct = fixture.Find("synthetic ct1");
        var (_, series, _) = await GetImageAsync($"/dicomweb/studies/{ct.Study}/series/{ct.Series}/rendered", "image/png");
        Assert.Equal((64, 64), (series.Width, series.Height));
        var (_, study, _) = await GetImageAsync($"/dicomweb/studies/{ct.Study}/rendered", "image/png");
        Assert.Equal((64, 64), (study.Width, study.Height));

        var big = fixture.Find("pydicom JPEG2000.dcm");
        foreach (var uri in new[] { big.Uri + "/thumbnail", $"/dicomweb/studies/{big.Study}/series/{big.Series}/thumbnail", $"/dicomweb/studies/{big.Study}/thumbnail" })
        {
            var (_, thumb, _) = await GetImageAsync(uri);
            Assert.True(thumb.Width <= 128 && thumb.Height <= 128 && Math.Max(thumb.Width, thumb.Height) == 128, $"{uri}: {thumb.Width}x{thumb.Height}");
        }
    }
}
