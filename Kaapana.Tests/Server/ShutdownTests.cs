using System.Net;
using System.Net.Http.Headers;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Server;

/// <summary>
/// SIGTERM (docker stop, systemd) stops the real server process gracefully: exit code 0, no exception or error in its
/// output, and what it acknowledged before is in the index afterwards. Also when the signal arrives while it is starting
/// (it used to abort with 134 and "Hosting failed to start").
/// </summary>
public class ShutdownTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    private static void AssertCleanLog(string output)
    {
        var bad = output.Split('\n').Where(l => l.Contains("Exception", StringComparison.Ordinal) || l.Contains(" ERR]", StringComparison.Ordinal)
            || l.Contains(" FTL]", StringComparison.Ordinal) || l.Contains("Unhandled", StringComparison.Ordinal)).ToList();
        Assert.True(bad.Count == 0, $"exception or error after SIGTERM:{Environment.NewLine}{output}");
    }

    [Fact]
    public async Task Sigterm_after_acknowledged_stores_exits_0_with_a_clean_log_and_the_data_indexed()
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-sigterm-").FullName;
        try
        {
            await using var server = await KaapanaServer.StartAsync(dataDir);
            // One instance through each door; both answers mean "stored" (acknowledged). The series stay open (quiet
            // period 10 s), so the stability monitor is still waiting on them when the signal comes.
            var file = Path.Combine(dataDir, "c-store.dcm");
            await File.WriteAllBytesAsync(file, TestInstances.Single(out var viaDimse));
            var store = await DicomTools.RunAsync("storescu", "-aec", "KAAPANA", "127.0.0.1", server.DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture), file);
            Assert.True(store.ExitCode == 0, store.ToString());
            using (var http = server.CreateClient())
            using (var form = new MultipartFormDataContent { { new ByteArrayContent(TestInstances.Single(out var viaHttp)) { Headers = { ContentType = new MediaTypeHeaderValue("application/dicom") } }, "files", "a.dcm" } })
            {
                var response = await http.PostAsync("/api/uploads", form);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                File.Delete(file);

                int exit = await server.TerminateAsync(ExitTimeout);
                Assert.True(exit == 0, $"exit code {exit}:{Environment.NewLine}{server.Output}");
                AssertCleanLog(server.Output);

                await using var db = server.OpenIndex();
                var sops = await db.Instances.Select(i => i.SOPInstanceUID).ToListAsync();
                Assert.Contains(viaDimse, sops);
                Assert.Contains(viaHttp, sops);
            }
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Theory]
    [InlineData("Index database ready")]   // before the project seed and the DICOM receiver's first index read
    [InlineData("Archive at")]             // during the project seed
    public async Task Sigterm_while_starting_exits_0_once_started_without_an_error(string after)
    {
        var dataDir = Directory.CreateTempSubdirectory("kaapana-sigterm-start-").FullName;
        try
        {
            await using var server = await KaapanaServer.StartAsync(dataDir, waitUntilReady: false);
            await server.WaitForOutputAsync(after, TimeSpan.FromSeconds(90));
            int exit = await server.TerminateAsync(ExitTimeout);
            Assert.True(exit == 0, $"exit code {exit}:{Environment.NewLine}{server.Output}");
            AssertCleanLog(server.Output);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
