using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Kaapana.Tests.Archive;

namespace Kaapana.Tests.Access.Matrix;

/// <summary>Small HTTP helpers the api and workflow door tests share: a client per role (anonymous included), calls that return status and body, uploads.</summary>
internal static class MatrixHttp
{
    public const string Admin = TestCredentials.AdminUser, Anonymous = "anonymous";

    /// <summary>Every role of the matrix.</summary>
    public static readonly string[] Roles =
    [
        AccessMatrixFixture.AlphaViewer, AccessMatrixFixture.AlphaResearcher, AccessMatrixFixture.AlphaProjectAdmin,
        AccessMatrixFixture.BetaResearcher, AccessMatrixFixture.Outsider, Admin, Anonymous,
    ];

    public static HttpClient Client(this AccessMatrixFixture m, string user) => user == Anonymous ? m.Anonymous() : m.As(user);

    public static async Task<(HttpStatusCode Status, string Body)> CallAsync(this AccessMatrixFixture m, string user, HttpMethod method, string url, object? json = null)
    {
        using var http = m.Client(user);
        using var request = new HttpRequestMessage(method, url);
        if (json is not null) request.Content = JsonContent.Create(json);
        using var r = await http.SendAsync(request);
        return (r.StatusCode, await r.Content.ReadAsStringAsync());
    }

    public static Task<(HttpStatusCode Status, string Body)> GetAsync(this AccessMatrixFixture m, string user, string url) => m.CallAsync(user, HttpMethod.Get, url);

    public static Task<(HttpStatusCode Status, string Body)> PostAsync(this AccessMatrixFixture m, string user, string url, object? json = null) =>
        m.CallAsync(user, HttpMethod.Post, url, json ?? new { });

    /// <summary>Uploads one new instance (its own study and series) into a project as <paramref name="user"/>; returns the series UID and status.</summary>
    public static async Task<(string SeriesUid, HttpStatusCode Status, string Body)> UploadAsync(this AccessMatrixFixture m, string user, string? project,
        string? studyUid = null, string? seriesUid = null)
    {
        var series = seriesUid ?? TestInstances.NewUid();
        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(TestInstances.Create(new TestInstances.Spec("MATRIX-UP", "Upload^Matrix", studyUid ?? TestInstances.NewUid(), series,
            TestInstances.NewUid())));
        part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        form.Add(part, "files", "one.dcm");
        using var http = m.Client(user);
        using var r = await http.PostAsync("/api/uploads" + (project is null ? "" : "?project=" + project), form);
        return (series, r.StatusCode, await r.Content.ReadAsStringAsync());
    }

    public static JsonElement Json(this string body) => JsonDocument.Parse(body).RootElement.Clone();

    /// <summary>The body with the id the caller asked for replaced (as a word after a space, as the messages put it), to compare a hidden answer with a missing one.</summary>
    public static string Anonymize(string body, string id) => System.Text.RegularExpressions.Regex.Replace(body, $@"(?<= ){id}\b", "#");

    /// <summary>An id that no row has (for "invisible answers as nonexistent" comparisons).</summary>
    public const int MissingId = 987654;
}
