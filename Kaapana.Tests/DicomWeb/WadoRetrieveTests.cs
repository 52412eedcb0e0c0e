using System.Net;
using System.Net.Http.Headers;
using Kaapana.Dicom;
using Kaapana.Tests.Interop;

namespace Kaapana.Tests.DicomWeb;

/// <summary>WADO-RS retrieve of studies, series and instances against the real server: bytes as stored, transcoding checked against DCMTK/GDCM.</summary>
[Collection(WadoCollection.Name)]
public class WadoRetrieveTests(WadoFixture fixture)
{
    private const string AsStored = "multipart/related; type=\"application/dicom\"; transfer-syntax=*";

    private async Task<(MediaTypeHeaderValue ContentType, List<WadoPart> Parts)> GetAsync(string uri, string? accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await fixture.Http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{uri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await WadoMultipart.ReadAsync(response);
    }

    [Fact]
    public async Task Every_study_retrieved_as_stored_is_byte_identical_to_the_archived_files()
    {
        foreach (var study in fixture.Instances.GroupBy(i => i.Study))
        {
            var (contentType, parts) = await GetAsync($"/dicomweb/studies/{study.Key}", AsStored);
            Assert.Equal("application/dicom", WadoMultipart.Parameter(contentType, "type"));
            Assert.Equal(study.Count(), parts.Count);
            foreach (var part in parts)
            {
                var sop = DicomFile.Read(new MemoryStream(part.Body)).Dataset.GetString(DicomTags.SOPInstanceUID);
                var expected = study.Single(i => i.Sop == sop);
                Assert.Equal("application/dicom", part.MediaType);
                Assert.Equal(expected.TransferSyntax, part.TransferSyntax);
                var archived = await File.ReadAllBytesAsync(expected.ArchivedPath);
                Assert.True(part.Body.AsSpan().SequenceEqual(archived), $"{expected} differs from its archived file");
            }
        }
    }

    [Fact]
    public async Task Series_and_instance_retrieve_return_just_their_instances()
    {
        var series = fixture.Instances.Where(i => i.Study == fixture.SyntheticStudy).GroupBy(i => i.Series).First();
        var (_, parts) = await GetAsync($"/dicomweb/studies/{fixture.SyntheticStudy}/series/{series.Key}", AsStored);
        Assert.Equal(series.Select(i => i.Sop).Order(), parts.Select(p => DicomFile.Read(new MemoryStream(p.Body)).Dataset.GetString(DicomTags.SOPInstanceUID)).Order());

        var one = series.First();
        var (_, single) = await GetAsync(one.Uri, AsStored);
        Assert.Equal(await File.ReadAllBytesAsync(one.ArchivedPath), Assert.Single(single).Body);
    }

    /// <summary>The tool that turns a file into Explicit VR Little Endian with native pixel data, as a reference.</summary>
    private static (string Program, string[] Args) Reference(string syntax, string input, string output) => syntax switch
    {
        "1.2.840.10008.1.2.4.50" or "1.2.840.10008.1.2.4.51" or "1.2.840.10008.1.2.4.57" or "1.2.840.10008.1.2.4.70" => (Peers.Dcmtk("dcmdjpeg"), [input, output]),
        "1.2.840.10008.1.2.4.80" or "1.2.840.10008.1.2.4.81" => (Peers.Dcmtk("dcmdjpls"), [input, output]),
        "1.2.840.10008.1.2.5" => (Peers.Dcmtk("dcmdrle"), [input, output]),
        "1.2.840.10008.1.2.4.90" or "1.2.840.10008.1.2.4.91" => (Peers.Require("gdcmconv", "libgdcm-tools"), ["--raw", input, output]),
        _ => (Peers.Dcmtk("dcmconv"), ["+te", input, output]),
    };

    private static readonly DicomTag[] ImagePixelTags =
    [
        DicomTags.SamplesPerPixel, DicomTags.PhotometricInterpretation, DicomTags.Rows, DicomTags.Columns, DicomTags.BitsAllocated,
        DicomTags.BitsStored, DicomTags.HighBit, DicomTags.PixelRepresentation, DicomTags.NumberOfFrames,
    ];

    [Fact]
    public async Task Default_retrieve_is_explicit_VR_little_endian_with_the_pixels_DCMTK_or_GDCM_decode()
    {
        var scratch = fixture.ScratchDir("ele");
        var failures = new List<string>();
        foreach (var instance in fixture.Instances.Where(i => i.TransferSyntax != DicomTransferSyntax.ExplicitVRLittleEndian.Uid))
        {
            // No transfer-syntax parameter: Explicit VR Little Endian (PS3.18 8.7.3.5.2).
            var (_, parts) = await GetAsync(instance.Uri, "multipart/related; type=\"application/dicom\"");
            var part = Assert.Single(parts);
            Assert.Equal(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, part.TransferSyntax);
            var ours = DicomFile.Read(new MemoryStream(part.Body), new DicomReadOptions { LargeValueThreshold = null });
            Assert.Equal(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, ours.FileMetaInfo.GetString(DicomTags.TransferSyntaxUID));

            var output = Path.Combine(scratch, instance.Sop + ".dcm");
            var (program, args) = Reference(instance.TransferSyntax, instance.ArchivedPath, output);
            (await Peers.RunAsync(program, args)).EnsureSuccess(Path.GetFileName(program));
            var reference = DicomFile.Open(output, new DicomReadOptions { LargeValueThreshold = null });

            foreach (var tag in ImagePixelTags)
                // GDCM drops a Number of Frames of 1; we keep what the file had.
                if (ours.Dataset.GetString(tag) != reference.Dataset.GetString(tag) && !(tag == DicomTags.NumberOfFrames && reference.Dataset.GetString(tag) == ""))
                    failures.Add($"{instance}: {tag} is '{ours.Dataset.GetString(tag)}', {Path.GetFileName(program)} says '{reference.Dataset.GetString(tag)}'");
            var a = ((DicomValueElement)ours.Dataset[DicomTags.PixelData]).Span;
            var b = ((DicomValueElement)reference.Dataset[DicomTags.PixelData]).Span;
            if (a.Length != b.Length) failures.Add($"{instance}: pixel data of {a.Length} bytes, {Path.GetFileName(program)} gives {b.Length}");
            else if (!a.SequenceEqual(b))
            {
                int bytesPerSample = ours.Dataset.GetOrDefault(DicomTags.BitsAllocated, 16) > 8 ? 2 : 1;
                int maxDiff = 0;
                for (int i = 0; i + bytesPerSample <= a.Length; i += bytesPerSample)
                {
                    int x = bytesPerSample == 2 ? BitConverter.ToUInt16(a[i..]) : a[i], y = bytesPerSample == 2 ? BitConverter.ToUInt16(b[i..]) : b[i];
                    maxDiff = Math.Max(maxDiff, Math.Abs(x - y));
                }
                // Lossy JPEG leaves the inverse DCT's rounding to the decoder: ours (JpegLibrary) and DCMTK's IJG code may differ by one grey level.
                bool lossyJpeg = instance.TransferSyntax is "1.2.840.10008.1.2.4.50" or "1.2.840.10008.1.2.4.51";
                if (!(lossyJpeg && maxDiff <= 1)) failures.Add($"{instance}: pixel data differs from {Path.GetFileName(program)}'s, by up to {maxDiff}");
            }
            Assert.Equal(instance.Sop, ours.Dataset.GetString(DicomTags.SOPInstanceUID));
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Explicit_VR_little_endian_files_asked_for_in_their_own_syntax_are_sent_unchanged()
    {
        var ct = fixture.Find("synthetic ct1");
        var (_, parts) = await GetAsync(ct.Uri, $"multipart/related; type=\"application/dicom\"; transfer-syntax={DicomTransferSyntax.ExplicitVRLittleEndian.Uid}");
        Assert.Equal(await File.ReadAllBytesAsync(ct.ArchivedPath), Assert.Single(parts).Body);
    }

    [Fact]
    public async Task A_requested_syntax_we_can_produce_is_sent_and_DCMTK_reads_it_back_to_the_same_pixels()
    {
        // A real CT (16 bits stored, signed): the synthetic ones carry noise above Bits Stored, which lossless codecs of that precision drop.
        var ct = fixture.Find("pydicom CT_small.dcm");
        var original = DicomFile.Open(ct.ArchivedPath, new DicomReadOptions { LargeValueThreshold = null });
        var scratch = fixture.ScratchDir("to-syntax");
        foreach (var (syntax, decoder) in new[] { ("1.2.840.10008.1.2", "dcmconv"), ("1.2.840.10008.1.2.5", "dcmdrle"), ("1.2.840.10008.1.2.4.70", "dcmdjpeg") })
        {
            var (_, parts) = await GetAsync(ct.Uri, $"multipart/related; type=\"application/dicom\"; transfer-syntax={syntax}");
            var part = Assert.Single(parts);
            Assert.Equal(syntax, part.TransferSyntax);
            var path = Path.Combine(scratch, $"{syntax}.dcm");
            await File.WriteAllBytesAsync(path, part.Body);
            var dump = await Peers.RunDcmtkAsync("dcmdump", ["+P", "0002,0010", path]);
            Assert.Contains(syntax == "1.2.840.10008.1.2" ? "LittleEndianImplicit" : syntax == "1.2.840.10008.1.2.5" ? "RLELossless" : "JPEGLossless:Non-hierarchical-1stOrderPrediction", dump.Stdout);
            var decoded = Path.Combine(scratch, $"{syntax}-decoded.dcm");
            (await Peers.RunDcmtkAsync(decoder, decoder == "dcmconv" ? ["+te", path, decoded] : [path, decoded])).EnsureSuccess(decoder);
            var back = DicomFile.Open(decoded, new DicomReadOptions { LargeValueThreshold = null });
            Assert.Equal(((DicomValueElement)original.Dataset[DicomTags.PixelData]).Span.ToArray(), ((DicomValueElement)back.Dataset[DicomTags.PixelData]).Span.ToArray());
        }
    }

    [Fact]
    public async Task A_large_series_streams_without_Content_Length_and_in_instance_order()
    {
        var ct = fixture.Instances.Where(i => i.Origin.StartsWith("synthetic ct", StringComparison.Ordinal)).OrderBy(i => i.Origin).ToList();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/dicomweb/studies/{ct[0].Study}/series/{ct[0].Series}");
        request.Headers.TryAddWithoutValidation("Accept", AsStored);
        using var response = await fixture.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentLength); // chunked: written file by file, not buffered
        var (_, parts) = await WadoMultipart.ReadAsync(response);
        Assert.Equal(ct.Select(i => i.Sop), parts.Select(p => DicomFile.Read(new MemoryStream(p.Body)).Dataset.GetString(DicomTags.SOPInstanceUID)));
    }
}
