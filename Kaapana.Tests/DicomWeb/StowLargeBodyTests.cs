using Xunit.Abstractions;
using System.Net;
using System.Net.Http.Headers;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.DicomWeb;

/// <summary>A large STOW-RS body streams through the server: its memory does not grow by anything like the body size.</summary>
public sealed class StowLargeBodyTests(ITestOutputHelper output)
{
    private const int Instances = 400; // 200 MB: well above what the heap and pools grow by on their own
    private const int Size = 512;

    private static long StatusKb(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        Assert.True(line is not null, $"/proc/{pid}/status has no {field}");
        return long.Parse(line![(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Four_hundred_512_ct_instances_stream_through_without_the_server_holding_the_body()
    {
        var root = Directory.CreateTempSubdirectory("kaapana-stow-large-").FullName;
        try
        {
            var folder = Directory.CreateDirectory(Path.Combine(root, "instances")).FullName;
            var study = TestInstances.NewUid();
            var series = TestInstances.NewUid();
            var files = new List<(string Path, string Sop)>();
            for (int i = 0; i < Instances; i++)
            {
                var sop = TestInstances.NewUid();
                var path = Path.Combine(folder, $"{i:D3}.dcm");
                await File.WriteAllBytesAsync(path, TestInstances.Create(new TestInstances.Spec("PID-LARGE", "Large^Stow", study, series, sop, InstanceNumber: i + 1, Size: Size)));
                files.Add((path, sop));
            }
            long bodyBytes = files.Sum(f => new FileInfo(f.Path).Length);

            await using var server = await KaapanaServer.StartAsync(Directory.CreateDirectory(Path.Combine(root, "data")).FullName);
            using var http = server.CreateClient(TimeSpan.FromMinutes(10));

            // Warm up (JIT, pools, index connection) with one small request so the baseline is a working server's.
            var warm = await StowClient.PostAsync(http, "/dicomweb/studies", StowClient.Body(TestInstances.Single(out _)));
            Assert.True(warm.Status == HttpStatusCode.OK, warm.ToString());

            long before = StatusKb(server.ProcessId, "VmRSS");
            // Reset the peak (VmHWM) to the current RSS (Linux clear_refs "5"), so VmHWM afterwards is the peak during the request.
            await File.WriteAllTextAsync($"/proc/{server.ProcessId}/clear_refs", "5");

            // Parts stream from the files (StreamContent), sent chunked: the client does not hold the body either.
            var parts = files.Select(f => (HttpContent)new StreamContent(File.OpenRead(f.Path)) { Headers = { ContentType = new MediaTypeHeaderValue("application/dicom") } });
            using var content = StowClient.Body(parts);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/dicomweb/studies") { Content = content };
            request.Headers.TransferEncodingChunked = true;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var answer = StowClient.Parse(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);

            long peak = StatusKb(server.ProcessId, "VmHWM");
            long after = StatusKb(server.ProcessId, "VmRSS");
            clock.Stop();
            output.WriteLine($"body {bodyBytes / 1024 / 1024} MB ({Instances} x {Size}² CT) stored in {clock.Elapsed.TotalSeconds:F1} s; server RSS before {before / 1024} MB, peak during {peak / 1024} MB, after {after / 1024} MB");

            Assert.True(answer.Status == HttpStatusCode.OK, $"{answer.Status}: {body[..Math.Min(body.Length, 2000)]}");
            Assert.Equal(files.Select(f => f.Sop), answer.Stored.Select(s => s.SopInstanceUid));
            await using (var db = server.OpenIndex())
                Assert.Equal(Instances, await db.Instances.CountAsync(i => i.Series.SeriesInstanceUID == series));

            // Generous: the peak may grow by at most half the body (a buffering server would need all of it, and more).
            long growthBytes = (peak - before) * 1024;
            Assert.True(growthBytes < bodyBytes / 2,
                $"server peak RSS grew by {growthBytes / 1024 / 1024} MB for a {bodyBytes / 1024 / 1024} MB body (before {before / 1024} MB, peak {peak / 1024} MB)");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
