using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Archive.Upload;

namespace Kaapana.Tests.Access;

/// <summary>
/// Zip-slip and hostile file names on <c>POST /api/uploads</c>: zip entries named with <c>../</c>, absolute paths, drive
/// letters, backslashes, a symlink entry and a file "inside" it, and multipart parts with such file names. The upload
/// reads entries as streams and files instances by their UIDs, so a name is only a label: the valid instances are stored,
/// and nothing appears outside the archive, neither in the data directory's parent nor at the absolute paths named.
/// </summary>
public sealed class UploadZipSlipTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("kaapana-zipslip-").FullName;
    private readonly string _marker = "zipslip" + Guid.NewGuid().ToString("N")[..12];
    private KaapanaServer _server = null!;
    private string DataDir => Path.Combine(_root, "data");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataDir);
        _server = await KaapanaServer.StartAsync(DataDir);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private const int SymlinkMode = 0xA1FF; // S_IFLNK | 0777, as Info-ZIP stores a symbolic link in the high 16 bits

    private static byte[] Zip(params (string Name, byte[] Bytes, bool Symlink)[] entries)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes, symlink) in entries)
            {
                var entry = zip.CreateEntry(name);
                if (symlink) entry.ExternalAttributes = SymlinkMode << 16;
                using var s = entry.Open();
                s.Write(bytes);
            }
        return ms.ToArray();
    }

    private static ByteArrayContent Part(byte[] bytes) => new(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } };

    [Fact]
    public async Task Traversal_absolute_drive_letter_and_symlink_names_write_nothing_outside_the_archive()
    {
        var m = _marker;
        var uids = new List<string>();
        byte[] Instance()
        {
            var bytes = TestInstances.Single(out var uid);
            uids.Add(uid);
            return bytes;
        }
        var zip = Zip(
            ($"../{m}-1.dcm", Instance(), false),
            ($"../../../../../../../../tmp/{m}-2.dcm", Instance(), false),
            ($"/tmp/{m}-3.dcm", Instance(), false),
            ($"C:\\{m}-4.dcm", Instance(), false),
            ($"C:/Windows/{m}-5.dcm", Instance(), false),
            ($"..\\..\\{m}-6.dcm", Instance(), false),
            ($"{m}-link", System.Text.Encoding.UTF8.GetBytes(_root), true), // a link to the data directory's parent ...
            ($"{m}-link/{m}-7.dcm", Instance(), false)); // ... and a file "through" it

        using var form = new MultipartFormDataContent
        {
            { Part(zip), "files", $"../../{m}-archive.zip" },
            { Part(Instance()), "files", $"../../{m}-p1.dcm" },
            { Part(Instance()), "files", $"/tmp/{m}-p2.dcm" },
            { Part(Instance()), "files", $"..\\..\\{m}-p3.dcm" },
            { Part(Instance()), "files", $"C:\\{m}-p4.dcm" },
        };
        using var client = _server.CreateClient();
        var response = await client.PostAsync("/api/uploads", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.MultiStatus, $"{(int)response.StatusCode}: {body}");

        using var json = JsonDocument.Parse(body);
        var files = json.RootElement.GetProperty("files").EnumerateArray()
            .Select(f => (Name: f.GetProperty("name").GetString()!, Status: f.GetProperty("status").GetString()!)).ToList();
        // Every instance was read and stored whatever its name; the symlink entry (its content is a path, not DICOM) was rejected.
        Assert.Equal(uids.Count, files.Count(f => f.Status == "stored"));
        Assert.Equal("rejected", Assert.Single(files, f => f.Name.EndsWith($"{m}-link", StringComparison.Ordinal)).Status);
        Assert.Equal(uids.Order(), UploadApiTests.IndexedSopUids(DataDir).Order());

        // Nothing carries the marker anywhere: not beside or above the data directory, not at the absolute paths, not in the
        // server's working directory; no link was made; the zip spool is gone.
        var strays = Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFileSystemEntries(Path.GetTempPath()))
            .Concat(Directory.EnumerateFileSystemEntries("/"))
            .Concat(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(_root)!))
            .Where(p => p.Contains(m, StringComparison.Ordinal)).ToList();
        Assert.True(strays.Count == 0, "written outside the archive: " + string.Join(", ", strays));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories), p => new FileInfo(p).LinkTarget is not null);
        Assert.Equal(["data"], Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(DataDir, "uploads")));
        // The instances are where the archive's layout puts them (named from their UIDs' hashes), one file each.
        var stored = Directory.EnumerateFiles(Path.Combine(_server.ArchiveDir, Kaapana.Core.Archive.Storage.ArchiveLayout.InstancesFolder), "*",
            SearchOption.AllDirectories).ToList();
        Assert.Equal(uids.Count, stored.Count);
    }
}
