using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Kaapana.Dicom;
using Kaapana.Tests.Server;

namespace Kaapana.Tests.Archive.Upload;

/// <summary>
/// POST /api/uploads with bodies that are damaged, large, or zips whose entry names try to leave the data directory,
/// against the real server process.
/// </summary>
public class UploadBodyTests
{
    private static HashSet<string> IndexedSopUids(string dataDir) => UploadApiTests.IndexedSopUids(dataDir);

    private static byte[] FormData(string boundary, params (string Name, byte[] Bytes)[] files)
    {
        var ms = new MemoryStream();
        foreach (var (name, bytes) in files)
        {
            ms.Write(Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n"));
            ms.Write(bytes);
            ms.Write("\r\n"u8);
        }
        ms.Write(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        return ms.ToArray();
    }

    private static async Task<(HttpStatusCode Status, string? Type, JsonElement Json)> PostRawAsync(HttpClient http, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=B");
        using var response = await http.PostAsync("/api/uploads", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(text.Length > 0 && text[0] == '{', $"{response.StatusCode}: not JSON: {text}");
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task A_truncated_body_is_400_with_a_message_and_files_received_whole_before_it_stay_stored()
    {
        await using var server = await ServerProcess.StartAsync();
        var a = TestInstances.Single(out var sopA);
        var b = TestInstances.Single(out var sopB);

        // Cut inside the only part: nothing read whole, nothing stored.
        var one = FormData("B", ("a.dcm", a));
        foreach (var cut in new[] { 30, one.Length / 2, one.Length - 12 })
        {
            var (status, type, json) = await PostRawAsync(server.Http, one[..cut]);
            Assert.True(status == HttpStatusCode.BadRequest && type == "application/problem+json", $"cut at {cut}: {status} {json}");
            Assert.Contains("--B--", json.GetProperty("detail").GetString());
            Assert.DoesNotContain(sopA, IndexedSopUids(server.DataDir));
        }

        // Cut inside the second part: the first is stored and listed, the second is not stored.
        var two = FormData("B", ("a.dcm", a), ("b.dcm", b));
        var (status2, type2, json2) = await PostRawAsync(server.Http, two[..(two.Length - 300)]);
        Assert.True(status2 == HttpStatusCode.BadRequest && type2 == "application/problem+json", $"{status2} {json2}");
        Assert.Contains("part 2 ('b.dcm') is incomplete", json2.GetProperty("detail").GetString());
        var listed = Assert.Single(json2.GetProperty("files").EnumerateArray());
        Assert.Equal("a.dcm", listed.GetProperty("name").GetString());
        Assert.Equal("stored", listed.GetProperty("status").GetString());
        Assert.Equal(1, json2.GetProperty("accepted").GetInt32());
        Assert.Equal(new HashSet<string> { sopA }, IndexedSopUids(server.DataDir));

        // A zip cut off mid-way: not spooled into ingest, the spool file removed.
        var zipped = new MemoryStream();
        using (var zip = new ZipArchive(zipped, ZipArchiveMode.Create, leaveOpen: true))
        await using (var s = zip.CreateEntry("b.dcm").Open())
            s.Write(b);
        var withZip = FormData("B", ("batch.zip", zipped.ToArray()));
        var (status3, _, json3) = await PostRawAsync(server.Http, withZip[..(withZip.Length - 40)]);
        Assert.True(status3 == HttpStatusCode.BadRequest, $"{status3} {json3}");
        Assert.Contains("'batch.zip'", json3.GetProperty("detail").GetString());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(server.DataDir, "uploads")));
        Assert.DoesNotContain(sopB, IndexedSopUids(server.DataDir));
        Assert.DoesNotContain("Unhandled", server.Output);
    }

    [Fact]
    public async Task Zip_entries_named_outside_the_data_directory_are_ingested_as_streams_and_written_nowhere_else()
    {
        await using var server = await ServerProcess.StartAsync();
        var marker = Guid.NewGuid().ToString("N");
        var names = new[] { $"../../{marker}-up.dcm", $"/tmp/{marker}-abs.dcm", $"..\\..\\{marker}-win.dcm", $"a/../../../{marker}-mid.dcm" };
        var sops = new List<string>();
        var zipped = new MemoryStream();
        using (var zip = new ZipArchive(zipped, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var name in names)
            {
                await using var s = zip.CreateEntry(name).Open();
                s.Write(TestInstances.Single(out var sop));
                sops.Add(sop);
            }

        using var form = new MultipartFormDataContent { { new ByteArrayContent(zipped.ToArray()), "files", "evil.zip" } };
        using var response = await server.Http.PostAsync("/api/uploads", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal(names.Select(n => $"evil.zip/{n}"), json.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.All(json.RootElement.GetProperty("files").EnumerateArray(), f => Assert.Equal("stored", f.GetProperty("status").GetString()));
        Assert.True(IndexedSopUids(server.DataDir).IsSupersetOf(sops));

        // No file named after an entry anywhere: not in the server's temp root (above the data dir), not in /tmp, not in the archive.
        var serverRoot = Path.GetDirectoryName(server.DataDir)!;
        Assert.Empty(Directory.EnumerateFiles(serverRoot, $"*{marker}*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(Path.GetTempPath(), $"*{marker}*", SearchOption.TopDirectoryOnly));
        Assert.Empty(Directory.EnumerateFiles("/", $"*{marker}*", SearchOption.TopDirectoryOnly));
    }

    [Fact]
    public async Task A_file_part_over_128_MB_is_stored()
    {
        await using var server = await ServerProcess.StartAsync();
        // 8200 x 8200 x 16 bit = 134,480,000 bytes of pixel data, over MultipartReader's default 128 MiB part limit. The
        // header comes from our writer with an empty Pixel Data whose length is then patched; the pixels are generated as the
        // request is sent, so neither side of the test holds them.
        const int side = 8200;
        const long pixelBytes = (long)side * side * 2;
        var ds = TestInstances.CreateDataset(new TestInstances.Spec("PID-BIG", "Big^Upload", TestInstances.NewUid(), TestInstances.NewUid(), TestInstances.NewUid()));
        var sop = ds.GetString(DicomTags.SOPInstanceUID);
        ds.Set<ushort>(DicomTags.Rows, side);
        ds.Set<ushort>(DicomTags.Columns, side);
        ds.SetBytes(DicomTags.PixelData, DicomVR.OW, ReadOnlyMemory<byte>.Empty);
        var header = TestInstances.ToBytes(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.True(header.AsSpan(header.Length - 12, 6).SequenceEqual((byte[])[0xE0, 0x7F, 0x10, 0x00, (byte)'O', (byte)'W']), "Pixel Data is not last");
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(header.Length - 4), (uint)pixelBytes);

        using var http = server.CreateClient(TimeSpan.FromMinutes(10));
        using var form = new MultipartFormDataContent { { new StreamContent(new GeneratedFile(header, pixelBytes)), "files", "big.dcm" } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/uploads") { Content = form };
        request.Headers.TransferEncodingChunked = true;
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}\n{server.Output}");
        Assert.Contains(sop, IndexedSopUids(server.DataDir));
        var stored = Directory.EnumerateFiles(Path.Combine(server.DataDir, "archive"), "*", SearchOption.AllDirectories).Max(f => new FileInfo(f).Length);
        Assert.Equal(header.Length + pixelBytes, stored);
    }

    /// <summary>A header, then <c>length</c> generated bytes, read forward only.</summary>
    private sealed class GeneratedFile(byte[] header, long length) : Stream
    {
        private long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            long total = header.Length + length;
            int n = (int)Math.Min(count, total - _position);
            for (int i = 0; i < n; i++, _position++)
                buffer[offset + i] = _position < header.Length ? header[_position] : (byte)(_position * 31);
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => header.Length + length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
