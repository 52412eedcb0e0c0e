using System.IO.Compression;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Server;
using Xunit.Abstractions;

namespace Kaapana.Tests.Viewer;

/// <summary>
/// The server fetches OHIF from the real npm registry into a versioned folder, moves it under /viewer and serves it; with an
/// unreachable registry or a wrong integrity it still starts and /viewer says why.
/// </summary>
[Collection(ViewerCollection.Name)]
public sealed partial class ViewerInstallTests(ITestOutputHelper output)
{
    private const string Version = "3.13.2";

    [Fact]
    public async Task FirstStartInstallsARewrittenVersionedViewerAndServesIt()
    {
        await using var server = await ViewerServer.StartAsync(); // default InstallRoot: <DataDir>/viewer, empty
        var ready = await server.WaitUntilViewerReadyAsync();
        string viewerRoot = Path.Combine(server.Server.DataDir, "viewer");
        string dir = Path.Combine(viewerRoot, $"ohif-{Version}");
        output.WriteLine($"Viewer ready {ready.TotalSeconds:F1} s after the server answered /healthz.");
        output.WriteLine(server.Server.Output.Split('\n').Where(l => l.Contains("Fetched") || l.Contains("Viewer installed")).Aggregate("", (a, l) => a + l + "\n"));

        // Versioned folder, complete, nothing left over, nothing of what we drop.
        Assert.True(File.Exists(Path.Combine(dir, ".kaapana-viewer.json")));
        Assert.Equal([$"ohif-{Version}"], Directory.GetDirectories(viewerRoot).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(viewerRoot, ".tmp-*"));
        Assert.False(Directory.Exists(Path.Combine(dir, "ort")));
        Assert.False(Directory.Exists(Path.Combine(dir, "dicom-microscopy-viewer")));
        Assert.False(File.Exists(Path.Combine(dir, "sw.js")));
        Assert.False(File.Exists(Path.Combine(dir, "app-config.js"))); // generated per request instead

        // Base-path rewrites: nothing root-absolute is left outside /viewer/.
        string index = File.ReadAllText(Path.Combine(dir, "index.html"));
        Assert.Empty(RootReference().Matches(index).Select(m => m.Value));
        Assert.Contains("window.PUBLIC_URL=\"/viewer/\"", index);
        Assert.DoesNotContain("window.PUBLIC_URL=\"/\"", index);
        Assert.Contains("src=\"/viewer/app-config.js\"", index);
        var scripts = Directory.GetFiles(dir, "*.js");
        Assert.DoesNotContain(scripts, f => File.ReadAllText(f).Contains("__webpack_require__.p = \"/\"", StringComparison.Ordinal));
        var moved = scripts.Where(f => File.ReadAllText(f).Contains("__webpack_require__.p = \"/viewer/\"", StringComparison.Ordinal))
            .Select(Path.GetFileName).ToList();
        foreach (string bundle in new[] { "app.bundle.", "compute.bundle.", "histogram-worker.bundle.", "interpolation.bundle.", "polySeg.bundle." })
        {
            Assert.Contains(moved, f => f!.StartsWith(bundle, StringComparison.Ordinal)); // the workers load their own chunks
        }
        foreach (string css in Directory.GetFiles(dir, "*.css"))
        {
            Assert.DoesNotMatch(@"url\(/(?!viewer/)", File.ReadAllText(css));
        }
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json"))))
        {
            Assert.All(manifest.RootElement.GetProperty("icons").EnumerateArray(),
                icon => Assert.StartsWith("/viewer/assets/", icon.GetProperty("src").GetString()));
        }

        // Every file index.html names is served.
        foreach (Match m in Regex.Matches(index, "(?:src|href)=\"(/viewer/[^\"]+)\""))
        {
            using var r = await server.Http.GetAsync(m.Groups[1].Value);
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"{m.Groups[1].Value}: {(int)r.StatusCode}");
        }

        // app-config.js: our router base and DICOMweb data source, no dialog, no tour; never cached.
        using (var config = await server.Http.GetAsync("/viewer/app-config.js"))
        {
            string js = await config.Content.ReadAsStringAsync();
            Assert.Equal("text/javascript", config.Content.Headers.ContentType?.MediaType);
            Assert.True(config.Headers.CacheControl?.NoCache);
            Assert.Contains("routerBasename: \"/viewer\"", js);
            Assert.Contains("var dicomWeb = window.location.origin + \"/dicomweb\";", js);
            Assert.Contains("qidoRoot: dicomWeb", js);
            Assert.Contains("wadoRoot: dicomWeb", js);
            Assert.Contains("imageRendering: 'wadors'", js);
            Assert.Contains("investigationalUseDialog: { option: 'never' }", js);
            Assert.Contains("'ohif.tours': { $set: [] }", js);
            Assert.DoesNotContain("cloudfront", js);
        }

        // Client routes get index.html; a missing asset stays a 404 even for a browser.
        using (var route = await GetAsync(server.Http, "/viewer/viewer?StudyInstanceUIDs=1.2.3", "text/html,*/*"))
        {
            Assert.Equal(HttpStatusCode.OK, route.StatusCode);
            Assert.Equal(index, await route.Content.ReadAsStringAsync());
            Assert.True(route.Headers.CacheControl?.NoCache);
        }
        using (var missing = await GetAsync(server.Http, "/viewer/0123456789abcdef.bundle.js", "text/html,*/*"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }
        using (var hidden = await GetAsync(server.Http, "/viewer/.kaapana-viewer.json", "*/*"))
        {
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        }

        // MIME types and caching: hashed names are immutable, the rest revalidates.
        string wasm = Path.GetFileName(Directory.GetFiles(dir, "*.wasm")[0]);
        using (var r = await GetAsync(server.Http, $"/viewer/{wasm}", "*/*"))
        {
            Assert.Equal("application/wasm", r.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromDays(365), r.Headers.CacheControl?.MaxAge);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(dir, wasm)), await r.Content.ReadAsByteArrayAsync());
        }

        // Pre-compressed variants: gzip when asked (decoding to the same bytes), identity otherwise; ETag revalidation.
        string app = Path.GetFileName(scripts.Single(f => Path.GetFileName(f).StartsWith("app.bundle.", StringComparison.Ordinal)));
        byte[] appBytes = await File.ReadAllBytesAsync(Path.Combine(dir, app));
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/viewer/{app}"))
        {
            request.Headers.AcceptEncoding.ParseAdd("gzip, deflate, br");
            using var r = await server.Http.SendAsync(request);
            Assert.Equal(["gzip"], r.Content.Headers.ContentEncoding);
            Assert.Equal("text/javascript", r.Content.Headers.ContentType?.MediaType);
            byte[] compressed = await r.Content.ReadAsByteArrayAsync();
            Assert.True(compressed.Length < appBytes.Length / 3, $"{compressed.Length} of {appBytes.Length}");
            await using var gz = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            var decoded = new MemoryStream();
            await gz.CopyToAsync(decoded);
            Assert.Equal(appBytes, decoded.ToArray());
            output.WriteLine($"{app}: {appBytes.Length:N0} bytes, {compressed.Length:N0} gzip");

            using var again = new HttpRequestMessage(HttpMethod.Get, $"/viewer/{app}");
            again.Headers.AcceptEncoding.ParseAdd("gzip");
            again.Headers.IfNoneMatch.Add(r.Headers.ETag!);
            using var notModified = await server.Http.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }
        using (var plain = await server.Http.GetAsync($"/viewer/{app}"))
        {
            Assert.Empty(plain.Content.Headers.ContentEncoding);
            Assert.Equal(appBytes, await plain.Content.ReadAsByteArrayAsync());
        }

        // A second server on the same folder uses the install as it is.
        await server.Server.KillAsync();
        await using var second = await KaapanaServer.StartAsync(server.Server.DataDir);
        using var http = second.CreateClient();
        for (int i = 0; i < 100 && !second.Output.Contains("Viewer found at", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }
        Assert.Contains("Viewer found at", second.Output);
        Assert.DoesNotContain("Fetched", second.Output);
        using var again2 = await GetAsync(http, "/viewer/", "text/html");
        Assert.Equal(HttpStatusCode.OK, again2.StatusCode);
    }

    [Fact]
    public async Task UnreachableRegistryLeavesTheServerUpAndViewerSaysWhy()
    {
        string registry = $"http://127.0.0.1:{KaapanaServer.FreePort()}/"; // nothing listens there
        await using var server = await ViewerServer.StartAsync(new Dictionary<string, string>
        {
            ["Kaapana__Viewer__Registry"] = registry,
            ["Kaapana__Viewer__RetryInterval"] = "00:00:00",
        });

        // The server started (StartAsync waited for /healthz) and the rest of it works.
        using (var health = await server.Http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        string page = await WaitForFailureAsync(server);
        output.WriteLine(page);
        Assert.Contains("could not be installed", page);
        Assert.Contains($"Cannot reach {registry}", page);
        Assert.Contains("tries again at its next start", page);

        using (var plain = await GetAsync(server.Http, "/viewer/app.bundle.js", "*/*"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, plain.StatusCode);
            Assert.Equal("text/plain", plain.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(plain.Headers.RetryAfter);
        }

        // No half viewer, no temp leftovers.
        string viewerRoot = Path.Combine(server.Server.DataDir, "viewer");
        Assert.Empty(Directory.GetDirectories(viewerRoot));
        Assert.Empty(Directory.GetFiles(viewerRoot, ".tmp-*"));
        Assert.Contains("could not be installed", server.Server.Output); // and the log says it too
    }

    [Fact]
    public async Task OfflineCopyOfThePackageInstallsWithoutTheRegistry()
    {
        // The copy an air-gapped site brings along, made by npm itself.
        string npm = RepoPaths.FindOnPath("npm") ?? throw new InvalidOperationException("npm not found on PATH: install the Debian package npm (apt-get install npm).");
        string packDir = Directory.CreateTempSubdirectory("kaapana-npm-pack-").FullName;
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo(npm) { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = packDir };
            foreach (string a in new[] { "pack", $"@ohif/app@{Version}", "--silent", "--pack-destination", packDir }) psi.ArgumentList.Add(a);
            using (var pack = System.Diagnostics.Process.Start(psi)!)
            {
                var stderr = pack.StandardError.ReadToEndAsync();
                await pack.StandardOutput.ReadToEndAsync();
                await pack.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(5)).Token);
                Assert.True(pack.ExitCode == 0, $"npm pack exited {pack.ExitCode}: {await stderr}");
            }
            string tgz = Assert.Single(Directory.GetFiles(packDir, "*.tgz"));

            await using var server = await ViewerServer.StartAsync(new Dictionary<string, string>
            {
                ["Kaapana__Viewer__Registry"] = $"http://127.0.0.1:{KaapanaServer.FreePort()}/", // unreachable: must not be needed
                ["Kaapana__Viewer__PackageFile"] = tgz,
                ["Kaapana__Viewer__RetryInterval"] = "00:00:00",
            });
            await server.WaitUntilViewerReadyAsync();
            Assert.Contains($"Fetched @ohif/app@{Version} from file://{tgz}", server.Server.Output);
            Assert.True(File.Exists(tgz)); // the operator's copy is left alone
            using var index = await GetAsync(server.Http, "/viewer/viewer?StudyInstanceUIDs=1.2.3", "text/html");
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
            Assert.Contains("window.PUBLIC_URL=\"/viewer/\"", await index.Content.ReadAsStringAsync());
        }
        finally
        {
            Directory.Delete(packDir, recursive: true);
        }
    }

    [Fact]
    public async Task PackageNotMatchingTheExpectedIntegrityIsRefused()
    {
        string wrong = "sha512-" + Convert.ToBase64String(new byte[64]);
        await using var server = await ViewerServer.StartAsync(new Dictionary<string, string>
        {
            ["Kaapana__Viewer__Integrity"] = wrong,
            ["Kaapana__Viewer__RetryInterval"] = "00:00:00",
        });

        string page = await WaitForFailureAsync(server);
        Assert.Contains("refusing it", page);
        Assert.Contains(wrong, page);
        Assert.Empty(Directory.GetDirectories(Path.Combine(server.Server.DataDir, "viewer")));
    }

    [Fact]
    public async Task SwitchedOffViewerDownloadsNothingAndSaysSo()
    {
        await using var server = await ViewerServer.StartAsync(new Dictionary<string, string> { ["Kaapana__Viewer__Enabled"] = "false" });
        using var r = await GetAsync(server.Http, "/viewer/viewer?StudyInstanceUIDs=1.2.3", "text/html");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Contains("Kaapana:Viewer:Enabled is false", await r.Content.ReadAsStringAsync());
        Assert.False(Directory.Exists(Path.Combine(server.Server.DataDir, "viewer")));
    }

    private static async Task<string> WaitForFailureAsync(ViewerServer server)
    {
        for (int i = 0; i < 600; i++)
        {
            using var r = await GetAsync(server.Http, "/viewer/viewer", "text/html");
            string body = await r.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
            if (body.Contains("data-status=\"Failed\"", StringComparison.Ordinal))
            {
                return WebUtility.HtmlDecode(body);
            }
            Assert.Contains("data-status=\"Installing\"", body);
            await Task.Delay(100);
        }
        Assert.Fail($"The install did not fail within a minute:{Environment.NewLine}{server.Server.Output}");
        return "";
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        return await http.SendAsync(request);
    }

    /// <summary>A src/href that is root-absolute but not under /viewer/.</summary>
    [GeneratedRegex("(?:src|href)=\"/(?!viewer/)")]
    private static partial Regex RootReference();
}
