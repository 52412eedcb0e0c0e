using System.Net;
using System.Text.Json.Nodes;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Dicom.Imaging.Codecs;
using Kaapana.Dicom.Json;

namespace Kaapana.Tests.DicomWeb;

/// <summary>WADO-RS metadata and bulk data: the JSON is what our reader finds in the archived file, and every BulkDataURI answers with the value.</summary>
[Collection(WadoCollection.Name)]
public class WadoMetadataTests(WadoFixture fixture)
{
    private static bool IsReferenced(DicomElement e) =>
        e is DicomFragmentSequence || e.Tag == DicomTags.PixelData || e is DicomValueElement v && v.VR.IsBulk() && v.Length > 1024;

    [Fact]
    public async Task Series_metadata_matches_the_archived_headers_and_every_BulkDataURI_resolves()
    {
        foreach (var series in fixture.Instances.GroupBy(i => (i.Study, i.Series)))
        {
            using var response = await fixture.Http.GetAsync($"/dicomweb/studies/{series.Key.Study}/series/{series.Key.Series}/metadata");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal("application/dicom+json", response.Content.Headers.ContentType?.MediaType);
            var array = JsonNode.Parse(body)!.AsArray();
            Assert.Equal(series.Count(), array.Count);
            foreach (var node in array)
            {
                var actual = node!.AsObject();
                var sop = actual["00080018"]!["Value"]![0]!.GetValue<string>();
                var instance = series.Single(i => i.Sop == sop);
                var file = DicomFile.Open(instance.ArchivedPath, new DicomReadOptions { LargeValueThreshold = null });
                // Metadata reads headers only, up to Pixel Data: what may follow it (trailing padding, signatures) is not in it.
                foreach (var tag in file.Dataset.Where(e => e.Tag > DicomTags.PixelData).Select(e => e.Tag).ToList()) file.Dataset.Remove(tag);
                var expected = JsonNode.Parse(DicomJsonWriter.Serialize(file.Dataset, new DicomJsonWriteOptions { BulkDataUriProvider = e => IsReferenced(e) ? "bulk" : null }))!.AsObject();

                // Top-level bulk data: fetch each reference and compare with the value in the file.
                foreach (var (tag, value) in actual.Where(kv => kv.Value?["BulkDataURI"] is not null).ToList())
                {
                    var uri = value!["BulkDataURI"]!.GetValue<string>();
                    Assert.StartsWith(fixture.Server.BaseAddress.ToString().TrimEnd('/') + instance.Uri + "/bulkdata/", uri);
                    await AssertBulkDataAsync(uri, file, new DicomTag(Convert.ToUInt32(tag, 16)), instance);
                }
                Normalise(actual);
                var differing = expected.Select(kv => kv.Key).Union(actual.Select(kv => kv.Key))
                    .Where(k => !JsonNode.DeepEquals(expected[k], actual[k])).ToList();
                Assert.True(differing.Count == 0, $"{instance}: metadata differs from the file at " +
                    string.Join("; ", differing.Select(k => $"{k}: expected {expected[k]?.ToJsonString()}, got {actual[k]?.ToJsonString()}")));
            }
        }
    }

    /// <summary>Replaces every BulkDataURI by the marker the expected JSON carries.</summary>
    private static void Normalise(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["BulkDataURI"] is not null) o["BulkDataURI"] = "bulk";
                foreach (var (_, v) in o.ToList()) Normalise(v);
                break;
            case JsonArray a:
                foreach (var v in a) Normalise(v);
                break;
        }
    }

    private async Task AssertBulkDataAsync(string uri, DicomFile file, DicomTag tag, WadoInstance instance)
    {
        using var response = await fixture.Http.GetAsync(uri);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{uri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var (_, parts) = await WadoMultipart.ReadAsync(response);
        if (tag == DicomTags.PixelData)
        {
            // Pixel data by reference: every frame, native by default.
            var pixels = DicomPixelData.Create(file);
            Assert.Equal(pixels.FrameCount, parts.Count);
            for (int i = 0; i < parts.Count; i++)
                Assert.True(DicomCodecs.Default.DecodeFrame(pixels, i).Data.AsSpan(0, parts[i].Body.Length).SequenceEqual(parts[i].Body), $"{instance}: frame {i + 1} of the pixel data bulk data differs");
            return;
        }
        var part = Assert.Single(parts);
        Assert.Equal("application/octet-stream", part.MediaType);
        Assert.Equal(((DicomValueElement)file.Dataset[tag]).Span.ToArray(), part.Body);
    }

    [Fact]
    public async Task Study_and_instance_metadata_list_their_instances()
    {
        using var study = await fixture.Http.GetAsync($"/dicomweb/studies/{fixture.SyntheticStudy}/metadata");
        var sops = JsonNode.Parse(await study.Content.ReadAsStringAsync())!.AsArray().Select(n => n!["00080018"]!["Value"]![0]!.GetValue<string>()).Order();
        Assert.Equal(fixture.Instances.Where(i => i.Study == fixture.SyntheticStudy).Select(i => i.Sop).Order(), sops);

        var one = fixture.Find("pydicom rtdose.dcm");
        using var instance = await fixture.Http.GetAsync(one.Uri + "/metadata");
        var array = JsonNode.Parse(await instance.Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal(one.Sop, Assert.Single(array)!["00080018"]!["Value"]![0]!.GetValue<string>());
        Assert.Equal("OW", array[0]!["7FE00010"]!["vr"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_bulk_data_path_that_leads_nowhere_is_404()
    {
        var one = fixture.Find("pydicom CT_small.dcm");
        using var missing = await fixture.Http.GetAsync(one.Uri + "/bulkdata/00091001/1/00100010");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("no bulk data", await missing.Content.ReadAsStringAsync());
    }
}
