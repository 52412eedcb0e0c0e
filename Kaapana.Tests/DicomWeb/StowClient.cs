using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Kaapana.Tests.DicomWeb;

/// <summary>Builds STOW-RS requests and reads the Store Instances Response Module (DICOM JSON) they get back.</summary>
internal static class StowClient
{
    public const string PrivateReasonCreator = "KAAPANA STOW-RS";

    /// <summary>multipart/related; type="application/dicom" with one application/dicom part per instance.</summary>
    public static MultipartContent Body(IEnumerable<HttpContent> parts, string? type = "application/dicom")
    {
        var content = new MultipartContent("related", "stow-" + Guid.NewGuid().ToString("N"));
        if (type is not null) content.Headers.ContentType!.Parameters.Add(new NameValueHeaderValue("type", $"\"{type}\""));
        foreach (var p in parts) content.Add(p);
        return content;
    }

    public static MultipartContent Body(params byte[][] instances) => Body(instances.Select(Part));

    public static HttpContent Part(byte[] bytes) => new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/dicom") } };

    public sealed record Item(string? SopClassUid, string? SopInstanceUid, string? RetrieveUrl, int? FailureReason, string? Reason);

    public sealed record Answer(HttpStatusCode Status, string? ContentType, string Body, string? StudyRetrieveUrl, List<Item> Stored, List<Item> Failed)
    {
        public override string ToString() => $"{(int)Status} {ContentType}: {Body}";
    }

    public static async Task<Answer> PostAsync(HttpClient http, string path, HttpContent content)
    {
        using var response = await http.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        var type = response.Content.Headers.ContentType?.MediaType;
        if (type != "application/dicom+json") return new Answer(response.StatusCode, type, body, null, [], []);
        return Parse(response.StatusCode, type, body);
    }

    public static Answer Parse(HttpStatusCode status, string? type, string body)
    {
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.True(root.TryGetProperty("00081190", out var url) && url.GetProperty("vr").GetString() == "UR", $"RetrieveURL (Type 2) missing: {body}");
        return new Answer(status, type, body, FirstString(root, "00081190"), Items(root, "00081199"), Items(root, "00081198"));
    }

    private static List<Item> Items(JsonElement root, string tag)
    {
        if (!root.TryGetProperty(tag, out var seq)) return [];
        Assert.Equal("SQ", seq.GetProperty("vr").GetString());
        return seq.GetProperty("Value").EnumerateArray().Select(i => new Item(
            FirstString(i, "00081150"), FirstString(i, "00081155"), FirstString(i, "00081190"),
            i.TryGetProperty("00081197", out var fr) ? fr.GetProperty("Value")[0].GetInt32() : null,
            PrivateReason(i))).ToList();
    }

    /// <summary>The reason text in the private block its creator reserved in group 0009.</summary>
    private static string? PrivateReason(JsonElement item)
    {
        for (int block = 0x10; block <= 0xFF; block++)
            if (FirstString(item, $"0009{block:X4}") == PrivateReasonCreator)
                return FirstString(item, $"0009{block:X2}01");
        return null;
    }

    private static string? FirstString(JsonElement e, string tag) =>
        e.TryGetProperty(tag, out var el) && el.TryGetProperty("Value", out var v) ? v[0].GetString() : null;
}
