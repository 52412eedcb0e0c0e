using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Kaapana.Tests.Server;
using Microsoft.Data.Sqlite;

namespace Kaapana.Tests.Archive.Upload;

/// <summary>POST /api/uploads against the real server process: files and zips in, a per-file verdict out, the index updated.</summary>
public class UploadApiTests
{
    private static ByteArrayContent Part(byte[] bytes) => new(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } };

    private static byte[] Zip(params (string Name, byte[] Bytes)[] entries)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in entries)
            {
                using var s = zip.CreateEntry(name).Open();
                s.Write(bytes);
            }
        return ms.ToArray();
    }

    /// <summary>The SOP Instance UIDs in the server's index (read-only, beside the running server).</summary>
    internal static HashSet<string> IndexedSopUids(string dataDir)
    {
        using var db = new SqliteConnection($"Data Source={Path.Combine(dataDir, "kaapana.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT SOPInstanceUID FROM Instances";
        var result = new HashSet<string>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) result.Add(r.GetString(0));
        return result;
    }

    [Fact]
    public async Task Files_and_zip_entries_are_ingested_and_each_gets_a_verdict()
    {
        await using var server = await ServerProcess.StartAsync();
        var a = TestInstances.Single(out var uidA);
        var b = TestInstances.Single(out var uidB);
        var c = TestInstances.Single(out var uidC);
        var truncated = TestInstances.Single(out var uidTruncated)[..200];

        using var form = new MultipartFormDataContent
        {
            { Part(a), "files", "a.dcm" },
            { Part("hello, not DICOM"u8.ToArray()), "files", "notes.txt" },
            { Part(Zip(("study/b.dcm", b), ("study/c.dcm", c), ("../../evil.dcm", truncated), ("readme.txt", "text"u8.ToArray()))), "files", "batch.zip" },
        };
        var response = await server.Http.PostAsync("/api/uploads", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.MultiStatus, $"{response.StatusCode}: {body}");

        using var json = JsonDocument.Parse(body);
        var files = json.RootElement.GetProperty("files").EnumerateArray()
            .ToDictionary(f => f.GetProperty("name").GetString()!, f => (Status: f.GetProperty("status").GetString(), Reason: f.GetProperty("reason").GetString()));
        Assert.Equal(6, files.Count);
        Assert.Equal("stored", files["a.dcm"].Status);
        Assert.Equal("stored", files["batch.zip/study/b.dcm"].Status);
        Assert.Equal("stored", files["batch.zip/study/c.dcm"].Status);
        Assert.Equal("rejected", files["notes.txt"].Status);
        Assert.False(string.IsNullOrWhiteSpace(files["notes.txt"].Reason));
        Assert.Equal("rejected", files["batch.zip/../../evil.dcm"].Status);
        Assert.Equal("rejected", files["batch.zip/readme.txt"].Status);
        Assert.Equal(3, json.RootElement.GetProperty("accepted").GetInt32());

        Assert.Equal(new HashSet<string> { uidA, uidB, uidC }, IndexedSopUids(server.DataDir));
        Assert.DoesNotContain(uidTruncated, IndexedSopUids(server.DataDir));
        // The zip spool is gone, and nothing was written outside the data directory by the traversal-named entry.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(server.DataDir, "uploads")));
        Assert.False(File.Exists(Path.Combine(server.DataDir, "..", "evil.dcm")));

        // The same upload again is idempotent: duplicates are accepted, nothing new is indexed.
        using var again = new MultipartFormDataContent { { Part(a), "files", "a.dcm" } };
        var second = await server.Http.PostAsync("/api/uploads", again);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains("\"duplicate\"", await second.Content.ReadAsStringAsync());
        Assert.Equal(3, IndexedSopUids(server.DataDir).Count);
    }

    [Fact]
    public async Task Only_bad_files_answer_400_and_non_multipart_415()
    {
        await using var server = await ServerProcess.StartAsync();
        using var form = new MultipartFormDataContent { { Part(new byte[1000]), "files", "zeros.dcm" } };
        var response = await server.Http.PostAsync("/api/uploads", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("zeros.dcm", await response.Content.ReadAsStringAsync());

        var raw = await server.Http.PostAsync("/api/uploads", new ByteArrayContent(TestInstances.Single(out _)));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, raw.StatusCode);
        Assert.Empty(IndexedSopUids(server.DataDir));
    }
}
