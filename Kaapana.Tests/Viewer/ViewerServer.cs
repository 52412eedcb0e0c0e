using System.Diagnostics;
using System.Net;
using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.Viewer;

/// <summary>Viewer tests share one collection: each starts a server (and perhaps Chromium), too heavy to run side by side on 2 cores.</summary>
[CollectionDefinition(Name)]
public sealed class ViewerCollection
{
    public const string Name = "Viewer";
}

/// <summary>A <see cref="KaapanaServer"/> on a temp data folder it owns (removed on dispose), with viewer settings.</summary>
public sealed class ViewerServer : IAsyncDisposable
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);

    private ViewerServer(KaapanaServer server, string root)
    {
        Server = server;
        Root = root;
        Http = server.CreateClient(TimeSpan.FromSeconds(60));
    }

    public KaapanaServer Server { get; }
    public HttpClient Http { get; }

    /// <summary>Temp folder holding the data folder (and whatever else the test puts there).</summary>
    public string Root { get; }

    /// <summary>
    /// Where the browser tests keep the installed viewer between runs: <c>$KAAPANA_VIEWER_CACHE</c>, else
    /// <c>$XDG_CACHE_HOME/kaapana/viewer</c> or <c>~/.cache/kaapana/viewer</c>. Outside the repository, so a fresh clone on
    /// the same machine (CI) reuses it; the install tests use their own empty folders.
    /// </summary>
    public static string SharedInstallRoot
    {
        get
        {
            if (Environment.GetEnvironmentVariable("KAAPANA_VIEWER_CACHE") is { Length: > 0 } configured)
            {
                return configured;
            }
            string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(cache, "kaapana", "viewer");
        }
    }

    public static async Task<ViewerServer> StartAsync(IDictionary<string, string>? settings = null)
    {
        string root = Directory.CreateTempSubdirectory("kaapana-viewer-").FullName;
        string data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        try
        {
            return new ViewerServer(await KaapanaServer.StartAsync(data, settings), root);
        }
        catch
        {
            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    /// <summary>Polls <c>/viewer/</c> until it serves the app; fails at once if the install failed.</summary>
    public async Task<TimeSpan> WaitUntilViewerReadyAsync()
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < InstallTimeout)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/viewer/");
            request.Headers.Accept.ParseAdd("text/html");
            using var response = await Http.SendAsync(request);
            string body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return sw.Elapsed;
            }
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"/viewer/ answered {(int)response.StatusCode}: {body}");
            Assert.False(body.Contains("data-status=\"Failed\"", StringComparison.Ordinal), $"Viewer install failed: {body}{Environment.NewLine}{Server.Output}");
            await Task.Delay(250);
        }
        Assert.Fail($"/viewer/ not ready within {InstallTimeout}:{Environment.NewLine}{Server.Output}");
        return default;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
