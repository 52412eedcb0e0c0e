using System.Collections.Concurrent;
using Kaapana.Tests.Server;
using Microsoft.Playwright;

namespace Kaapana.Tests.Browser;

/// <summary>
/// Debian's Chromium driven by Playwright (never <c>playwright install</c>): headless, fresh profile per test, and a folder
/// for screenshots and the browser log under <c>Kaapana.Tests/TestResults/&lt;area&gt;/</c>. Shared by the viewer and web UI tests.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly string _profile;
    private readonly ConcurrentQueue<string> _log = new();

    private Chromium(IPlaywright playwright, IBrowserContext context, IPage page, string profile, string artifacts)
    {
        _playwright = playwright;
        Context = context;
        Page = page;
        _profile = profile;
        Artifacts = artifacts;
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }
    public string Artifacts { get; }

    /// <summary>Console messages, page errors and failed requests, for failure messages and the artifacts folder.</summary>
    public string Log => string.Join(Environment.NewLine, _log);

    /// <param name="area">Folder under TestResults for the artifacts (the tests' feature: viewer, web).</param>
    /// <param name="extraArgs">More command-line switches (e.g. a browser feature a test needs switched on).</param>
    public static async Task<Chromium> LaunchAsync(string testName, string area = "viewer", ViewportSize? viewport = null,
        IReadOnlyList<string>? extraArgs = null)
    {
        Assert.True(File.Exists(ExecutablePath), $"{ExecutablePath} not found: install the Debian package chromium (apt-get install chromium).");
        string artifacts = Path.Combine(RepoPaths.RepoRoot, "Kaapana.Tests", "TestResults", area, $"{testName}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(artifacts);
        string profile = Directory.CreateTempSubdirectory("kaapana-chromium-").FullName;
        var playwright = await Playwright.CreateAsync();
        try
        {
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = [.. Args, .. extraArgs ?? []],
                ViewportSize = viewport ?? new ViewportSize { Width = 1400, Height = 900 },
            });
            var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            var chromium = new Chromium(playwright, context, page, profile, artifacts);
            page.Console += (_, m) => chromium._log.Enqueue($"console.{m.Type}: {m.Text}");
            page.PageError += (_, e) => chromium._log.Enqueue($"page error: {e}");
            page.RequestFailed += (_, r) => chromium._log.Enqueue($"request failed: {r.Method} {r.Url} {r.Failure}");
            page.Response += (_, r) =>
            {
                if (r.Status >= 400)
                {
                    chromium._log.Enqueue($"HTTP {r.Status}: {r.Request.Method} {r.Url}");
                }
            };
            return chromium;
        }
        catch
        {
            playwright.Dispose();
            Directory.Delete(profile, recursive: true);
            throw;
        }
    }

    public async Task<string> ScreenshotAsync(string name)
    {
        string path = Path.Combine(Artifacts, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        return path;
    }

    /// <summary>
    /// For a failed browser test: a full-page screenshot (failure.png) in the artifacts, and the exception to throw instead,
    /// whose message adds the browser's log and the server's output to <paramref name="failure"/>'s.
    /// </summary>
    public async Task<Xunit.Sdk.XunitException> FailureAsync(Exception failure, string serverOutput)
    {
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "failure.png"), FullPage = true });
        return new Xunit.Sdk.XunitException($"{failure.Message}{Environment.NewLine}Browser log:{Environment.NewLine}{Log}{Environment.NewLine}Server:{Environment.NewLine}{serverOutput}");
    }

    public async ValueTask DisposeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(Artifacts, "browser.log"), Log);
        await Context.CloseAsync();
        _playwright.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
