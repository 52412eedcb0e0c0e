using System.Net;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Tests.Interop;

namespace Kaapana.Tests.DicomWeb;

/// <summary>WADO-RS frames: native (decoded) by default, the stored compressed bytes with their image media type on transfer-syntax=*.</summary>
[Collection(WadoCollection.Name)]
public class WadoFramesTests(WadoFixture fixture)
{
    private async Task<(string Type, List<WadoPart> Parts)> GetFramesAsync(WadoInstance instance, string frames, string? accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{instance.Uri}/frames/{frames}");
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await fixture.Http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{instance}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var (ct, parts) = await WadoMultipart.ReadAsync(response);
        return (WadoMultipart.Parameter(ct, "type")!, parts);
    }

    /// <summary>The native pixel data DCMTK decodes the archived file to, cut into frames.</summary>
    private async Task<byte[][]> ReferenceFramesAsync(WadoInstance instance)
    {
        var output = Path.Combine(fixture.ScratchDir("frames"), "decoded.dcm");
        var tool = instance.TransferSyntax switch
        {
            "1.2.840.10008.1.2.5" => "dcmdrle",
            "1.2.840.10008.1.2.4.80" => "dcmdjpls",
            "1.2.840.10008.1.2.4.70" => "dcmdjpeg",
            _ => "dcmconv",
        };
        (await Peers.RunDcmtkAsync(tool, tool == "dcmconv" ? ["+te", instance.ArchivedPath, output] : [instance.ArchivedPath, output])).EnsureSuccess(tool);
        var ds = DicomFile.Open(output, new DicomReadOptions { LargeValueThreshold = null }).Dataset;
        var pixels = ((DicomValueElement)ds[DicomTags.PixelData]).Span.ToArray();
        var frameLength = PixelDataInfo.FromDataset(ds).FrameLength;
        return Enumerable.Range(0, instance.Frames).Select(i => pixels[(int)(i * frameLength)..(int)((i + 1) * frameLength)]).ToArray();
    }

    [Theory]
    [InlineData("pydicom SC_rgb_rle_2frame.dcm")]
    [InlineData("pydicom rtdose.dcm")]
    [InlineData("synthetic CT via dcmcjpls")]
    [InlineData("synthetic CT via dcmcjpeg")]
    public async Task Native_frames_equal_the_frames_DCMTK_decodes_in_the_order_asked(string origin)
    {
        var instance = fixture.Find(origin);
        var reference = await ReferenceFramesAsync(instance);
        var order = Enumerable.Range(1, instance.Frames).Reverse().ToArray();
        var (type, parts) = await GetFramesAsync(instance, string.Join(",", order), "multipart/related; type=\"application/octet-stream\"");
        Assert.Equal("application/octet-stream", type);
        Assert.Equal(order.Length, parts.Count);
        for (int i = 0; i < order.Length; i++)
        {
            Assert.Equal("application/octet-stream", parts[i].MediaType);
            Assert.Equal(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, parts[i].TransferSyntax);
            Assert.True(reference[order[i] - 1].AsSpan().SequenceEqual(parts[i].Body), $"{instance}: frame {order[i]} differs from DCMTK's");
        }
    }

    [Theory]
    [InlineData("pydicom SC_rgb_rle_2frame.dcm", "image/dicom-rle")]
    [InlineData("synthetic CT via dcmcjpls", "image/jls")]
    [InlineData("synthetic CT via dcmcjpeg", "image/jpeg")]
    [InlineData("pydicom JPEG2000.dcm", "image/jp2")]
    [InlineData("pydicom SC_rgb_jpeg_dcmtk.dcm", "image/jpeg")]
    public async Task With_transfer_syntax_star_frames_are_the_stored_compressed_bytes(string origin, string mediaType)
    {
        var instance = fixture.Find(origin);
        // What OHIF sends.
        var (_, parts) = await GetFramesAsync(instance, "1", "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*");
        var part = Assert.Single(parts);
        Assert.Equal(mediaType, part.MediaType);
        Assert.Equal(instance.TransferSyntax, part.TransferSyntax);
        var stored = DicomPixelData.Create(DicomFile.Open(instance.ArchivedPath, new DicomReadOptions { LargeValueThreshold = null })).GetFrame(0).ToArray();
        Assert.Equal(stored, part.Body);
        switch (mediaType)
        {
            case "image/jpeg" or "image/jls": Assert.Equal([0xFF, 0xD8], part.Body[..2]); break; // SOI
            case "image/dicom-rle": Assert.Equal(64u, BitConverter.ToUInt32(part.Body, 4)); break; // first segment offset
        }

        // Asking for the stored syntax by its media type gives the same.
        var (type, again) = await GetFramesAsync(instance, "1", $"multipart/related; type=\"{mediaType}\"; transfer-syntax={instance.TransferSyntax}");
        Assert.Equal(mediaType, type);
        Assert.Equal(stored, Assert.Single(again).Body);
    }

    [Fact]
    public async Task Frames_of_an_uncompressed_instance_with_star_are_native()
    {
        var instance = fixture.Find("pydicom ExplVR_BigEnd.dcm");
        var reference = await ReferenceFramesAsync(instance);
        var (_, parts) = await GetFramesAsync(instance, "1", "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*");
        Assert.Equal(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, Assert.Single(parts).TransferSyntax);
        Assert.Equal(reference[0], parts[0].Body); // little endian on the wire, though stored big endian
    }
}
