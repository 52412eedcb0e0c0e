using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Browser;
using Microsoft.Playwright;

namespace Kaapana.Tests.Web;

/// <summary>
/// The real server (empty archive) driven by Debian's Chromium at 1280×800: the first-run page's storescu line and
/// "Load demo data"; the upload page with a zip (DICOM + non-DICOM entry) and a loose file through the file input; the
/// admin pages, with a C-ECHO "Test" against a live DCMTK storescp. Screenshots go to Kaapana.Tests/TestResults/web/.
/// </summary>
public sealed class UploadAndAdminBrowserTests
{
    private static async Task OpenAsync(IPage page, string url)
    {
        await page.GotoAsync(url);
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
    }

    private static async Task AssertLabelledAsync(IPage page, string where)
    {
        var unlabelled = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')].filter(e =>
                !(e.getAttribute('aria-label') || e.labels?.length || e.getAttribute('aria-labelledby') || (e.tagName === 'BUTTON' && e.textContent.trim()))
                && e.offsetParent !== null).map(e => e.outerHTML.substring(0, 200))
            """);
        Assert.True(unlabelled.Length == 0, $"Visible controls without a label on {where}:{Environment.NewLine}{string.Join(Environment.NewLine, unlabelled)}");
    }

    [Fact]
    public async Task First_run_demo_data_upload_of_a_zip_and_a_file_and_admin_pages_with_a_live_echo_test()
    {
        Assert.True(File.Exists(Chromium.ExecutablePath), $"{Chromium.ExecutablePath} not found: install the Debian package chromium.");
        var root = Directory.CreateTempSubdirectory("kaapana-web-admin-");
        var data = Directory.CreateDirectory(Path.Combine(root.FullName, "data"));
        var files = Directory.CreateDirectory(Path.Combine(root.FullName, "files"));
        var received = Directory.CreateDirectory(Path.Combine(root.FullName, "scp"));
        int scpPort = KaapanaServer.FreePort();
        var scpOutput = new System.Text.StringBuilder();
        using var scp = DicomTools.Start("storescp", ["-v", "-aet", "LIVESCP", "-od", received.FullName, "+xa", scpPort.ToString(CultureInfo.InvariantCulture)], output: scpOutput);
        KaapanaServer? server = null;
        try
        {
            // Upload material: a zip with a DICOM file and a text file, and a loose DICOM file.
            string zip = Path.Combine(files.FullName, "study.zip"), loose = Path.Combine(files.FullName, "loose.dcm");
            using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            {
                using (var s = archive.CreateEntry("series/one.dcm").Open())
                    s.Write(TestInstances.Create(new TestInstances.Spec("PAT-UP", "Upload^Zip", TestInstances.NewUid(), TestInstances.NewUid(), TestInstances.NewUid())));
                using (var s = archive.CreateEntry("readme.txt").Open())
                    s.Write("not an image"u8);
            }
            await File.WriteAllBytesAsync(loose, TestInstances.Create(new TestInstances.Spec("PAT-UP", "Upload^Loose", TestInstances.NewUid(), TestInstances.NewUid(), TestInstances.NewUid())));

            server = await KaapanaServer.StartAsync(data.FullName, new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development", // MudBlazor's static files from build output (FIELD-NOTES)
                ["Kaapana__Archive__SeriesQuietPeriod"] = "00:00:01",
            });
            await using var browser = await Chromium.LaunchAsync("upload-admin", "web", new ViewportSize { Width = 1280, Height = 800 });
            var (page, artifacts) = (browser.Page, browser.Artifacts);
            var baseUrl = server.BaseAddress.ToString().TrimEnd('/');
            try
            {
                await BrowserSignIn.AsAdminAsync(page, server.BaseAddress);

                // First run: the exact storescu line for this server, the upload link, and demo data.
                await OpenAsync(page, baseUrl + "/");
                await Assertions.Expect(page.Locator("[data-testid=storescu-command]"))
                    .ToHaveTextAsync($"storescu +sd +r -aec KAAPANA 127.0.0.1 {server.DicomPort} /path/to/dicom-folder");
                Assert.Equal("upload", await page.Locator("[data-testid=upload-link]").GetAttributeAsync("href"));
                await AssertLabelledAsync(page, "/ (first run)");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "1-first-run.png") });
                await page.Locator("[data-testid=load-demo]").ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid=demo-result]")).ToContainTextAsync("144 instances stored", new() { Timeout = 120000 });
                await Assertions.Expect(page.Locator("[data-testid=demo-series]")).ToHaveCountAsync(6);
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "2-demo-loaded.png") });
                // A second click adds nothing.
                await page.Locator("[data-testid=load-demo]").ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid=demo-result]")).ToContainTextAsync("0 instances stored, 144 were there already", new() { Timeout = 120000 });
                await page.Locator("[data-testid=demo-browse]").ClickAsync();
                await Assertions.Expect(page).ToHaveURLAsync(new Regex("/browse"));
                await Assertions.Expect(page.Locator("[data-testid=series-count]")).ToHaveTextAsync("6 series", new() { Timeout = 30000 });

                // Upload: the zip and the loose file through the file input.
                await OpenAsync(page, baseUrl + "/upload");
                await Assertions.Expect(page.Locator("#upload-files")).ToBeEnabledAsync();
                await AssertLabelledAsync(page, "/upload");
                await page.Locator("#upload-files").SetInputFilesAsync([zip, loose]);
                var results = page.Locator("[data-testid=upload-result]");
                await Assertions.Expect(results).ToHaveCountAsync(3, new() { Timeout = 60000 });
                await Assertions.Expect(page.Locator("[data-testid=upload-result][data-status=stored]")).ToHaveCountAsync(2);
                var rejected = page.Locator("[data-testid=upload-result][data-status=rejected]");
                await Assertions.Expect(rejected).ToHaveCountAsync(1);
                await Assertions.Expect(rejected).ToContainTextAsync("study.zip/readme.txt");
                Assert.False(string.IsNullOrWhiteSpace(await rejected.Locator("[data-testid=upload-reason]").TextContentAsync()));
                await Assertions.Expect(page.Locator("[data-testid=upload-accepted]")).ToHaveTextAsync("2 accepted");
                await Assertions.Expect(page.Locator("[data-testid=upload-rejected]")).ToHaveTextAsync("1 rejected");
                // A file dropped on the zone (a synthetic drop: Chromium gives no directory entries for it, so the plain file list is used).
                var dropped = Convert.ToBase64String(TestInstances.Create(new TestInstances.Spec("PAT-UP", "Upload^Drop", TestInstances.NewUid(), TestInstances.NewUid(), TestInstances.NewUid())));
                await page.EvaluateAsync("""
                    b64 => {
                        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                        const dt = new DataTransfer();
                        dt.items.add(new File([bytes], 'dropped.dcm', { type: 'application/dicom' }));
                        document.querySelector('[data-testid=drop-zone]').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
                    }
                    """, dropped);
                await Assertions.Expect(page.Locator("[data-testid=upload-item][data-name='dropped.dcm'] [data-testid=upload-result][data-status=stored]"))
                    .ToHaveCountAsync(1, new() { Timeout = 30000 });
                await Assertions.Expect(page.Locator("[data-testid=upload-accepted]")).ToHaveTextAsync("3 accepted");
                // A folder through the folder input (webkitdirectory): every file inside, sub-folders included.
                var folder = Directory.CreateDirectory(Path.Combine(root.FullName, "folder", "sub"));
                string folderStudy = TestInstances.NewUid(), folderSeries = TestInstances.NewUid();
                await File.WriteAllBytesAsync(Path.Combine(folder.Parent!.FullName, "f1.dcm"), TestInstances.Create(new TestInstances.Spec("PAT-UP", "Upload^Folder", folderStudy, folderSeries, TestInstances.NewUid(), InstanceNumber: 1)));
                await File.WriteAllBytesAsync(Path.Combine(folder.FullName, "f2.dcm"), TestInstances.Create(new TestInstances.Spec("PAT-UP", "Upload^Folder", folderStudy, folderSeries, TestInstances.NewUid(), InstanceNumber: 2)));
                await page.Locator("#upload-folder").SetInputFilesAsync(folder.Parent!.FullName);
                await Assertions.Expect(page.Locator("[data-testid=upload-accepted]")).ToHaveTextAsync("5 accepted", new() { Timeout = 30000 });
                await Assertions.Expect(page.Locator("[data-testid=upload-item][data-name='folder/sub/f2.dcm']")).ToHaveCountAsync(1);
                await page.WaitForTimeoutAsync(500); // the overall bar's CSS transition, for the screenshot only
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "3-upload.png"), FullPage = true });

                // Remote nodes: add the live storescp through the form, then "Test".
                await OpenAsync(page, baseUrl + "/admin/nodes");
                await page.Locator("#node-ae").FillAsync("LIVESCP");
                await page.Locator("#node-host").FillAsync("127.0.0.1");
                await page.Locator("#node-port").FillAsync(scpPort.ToString(CultureInfo.InvariantCulture));
                await page.Locator("#node-port").BlurAsync();
                var row = page.Locator("[data-testid=node-row][data-ae=LIVESCP]");
                await page.GetByRole(AriaRole.Button, new() { Name = "Add node" }).ClickAsync();
                if (!await row.IsVisibleAsync())
                {
                    try
                    {
                        await row.WaitForAsync(new() { Timeout = 10000 });
                    }
                    catch (TimeoutException)
                    {
                        // Seen once in six runs at load average ~60: the click was lost ("exception invoking 'DispatchEventAsync'" in the
                        // browser log), most likely racing the re-render the port field's change caused. A user clicks again; the test
                        // does so once, and only when the form shows no validation error.
                        Assert.Equal(0, await page.Locator("[data-testid=form-error]").CountAsync());
                        await page.GetByRole(AriaRole.Button, new() { Name = "Add node" }).ClickAsync();
                    }
                }
                await Assertions.Expect(row).ToHaveCountAsync(1);
                await row.GetByRole(AriaRole.Button, new() { Name = "Test LIVESCP" }).ClickAsync();
                var echo = row.Locator("[data-testid=echo-result]");
                await Assertions.Expect(echo).ToHaveAttributeAsync("data-ok", "true", new() { Timeout = 30000 });
                await Assertions.Expect(echo).ToContainTextAsync(new Regex(@"Success · \d+ ms"));
                // A bad AE title is refused with the reason.
                await page.Locator("#node-ae").FillAsync("BAD\\AE");
                await page.Locator("#node-host").FillAsync("h");
                await page.GetByRole(AriaRole.Button, new() { Name = "Add node" }).ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid=form-error]")).ToContainTextAsync("backslash");
                await AssertLabelledAsync(page, "/admin/nodes");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "4-admin-nodes.png") });

                await OpenAsync(page, baseUrl + "/admin/endpoints");
                await Assertions.Expect(page.Locator("[data-testid=endpoint-row][data-ae=KAAPANA]")).ToContainTextAsync("default");
                await AssertLabelledAsync(page, "/admin/endpoints");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "5-admin-endpoints.png") });

                await OpenAsync(page, baseUrl + "/admin/projects");
                await Assertions.Expect(page.Locator("[data-testid=project-row][data-name=default] [data-testid=project-series]")).ToHaveTextAsync("10");
                await page.Locator("#project-name").FillAsync("web-made");
                await page.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid=project-row][data-name=web-made]")).ToHaveCountAsync(1);
                await AssertLabelledAsync(page, "/admin/projects");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "6-admin-projects.png") });
            }
            catch (Exception ex)
            {
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "failure.png"), FullPage = true });
                throw new Xunit.Sdk.XunitException($"{ex.Message}\nBrowser log:\n{browser.Log}\nServer:\n{server.Output}\nstorescp:\n{scpOutput}");
            }
        }
        finally
        {
            if (server is not null) await server.DisposeAsync();
            if (!scp.HasExited) scp.Kill();
            await scp.WaitForExitAsync();
            root.Delete(recursive: true);
        }
    }
}
