using System.Text.RegularExpressions;
using Kaapana.Dicom;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Browser;
using Kaapana.Tests.Server;
using Microsoft.Playwright;

namespace Kaapana.Tests.Web;

/// <summary>
/// The real server as a child process, data pushed with DCMTK storescu, driven by Debian's Chromium through Playwright:
/// filter by Modality and a Study Date range, reload (state in the URL), open a series, follow the viewer link.
/// Screenshots go to Kaapana.Tests/TestResults/web/.
/// </summary>
public sealed class BrowseBrowserTests
{
    [Fact]
    public async Task Filter_by_modality_and_date_range_then_open_a_series_and_its_viewer_link()
    {
        Assert.True(File.Exists(Chromium.ExecutablePath), $"{Chromium.ExecutablePath} not found: install the Debian package chromium.");
        var data = Directory.CreateTempSubdirectory("kaapana-web-");
        var files = Directory.CreateDirectory(Path.Combine(data.FullName, "send"));
        var server = default(KaapanaServer);
        try
        {
            // Four series: CT 2021 (two series of one study), CT 2015, MR 2021. Expected after Modality=CT and 2020–2021: 2.
            string study2021 = TestInstances.NewUid(), study2015 = TestInstances.NewUid(), studyMr = TestInstances.NewUid();
            var series = new[]
            {
                ("CT", study2021, "20210305", "Thorax CT"), ("CT", study2021, "20210305", "Thorax CT lung"),
                ("CT", study2015, "20150101", "Old CT"), ("MR", studyMr, "20211010", "Brain MR"),
            };
            int n = 0;
            var seriesUids = new List<string>();
            foreach (var (modality, study, date, description) in series)
            {
                n++;
                string seriesUid = TestInstances.NewUid();
                seriesUids.Add(seriesUid);
                for (int i = 1; i <= 3; i++)
                {
                    var bytes = TestInstances.Create(new TestInstances.Spec("PAT-W1", "Web^Test", study, seriesUid, TestInstances.NewUid(),
                        Modality: modality, InstanceNumber: i, Size: 64, SeriesDescription: description, SeriesNumber: n, StudyDate: date));
                    await File.WriteAllBytesAsync(Path.Combine(files.FullName, $"{n}-{i}.dcm"), bytes);
                }
            }

            server = await KaapanaServer.StartAsync(data.FullName, new Dictionary<string, string>
            {
                // MudBlazor's static files need Development when the server runs from build output (FIELD-NOTES).
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["Kaapana__Archive__SeriesQuietPeriod"] = "00:00:01",
            });
            Environment.SetEnvironmentVariable("TCP_NODELAY", "1");
            var store = await DicomTools.RunAsync("storescu", "+sd", "+r", "-aec", "KAAPANA", "127.0.0.1", server.DicomPort.ToString(), files.FullName);
            Assert.True(store.ExitCode == 0, store.Output);

            // Thumbnail endpoint: PNG with cache headers (made on completion, or on demand), clear 4xx otherwise.
            using (var http = server.CreateClient())
            {
                using var png = await http.GetAsync($"/api/series/{seriesUids[0]}/thumbnail");
                Assert.Equal(System.Net.HttpStatusCode.OK, png.StatusCode);
                Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
                Assert.NotNull(png.Headers.ETag);
                Assert.Equal(TimeSpan.FromSeconds(60), png.Headers.CacheControl?.MaxAge);
                Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await png.Content.ReadAsByteArrayAsync())[..4]);
                Assert.True(File.Exists(Path.Combine(data.FullName, "thumbnails", seriesUids[0][..2], seriesUids[0] + ".png")));
                using var bad = await http.GetAsync("/api/series/..%2Fetc/thumbnail");
                Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
                using var missing = await http.GetAsync("/api/series/1.2.3.4.5/thumbnail");
                Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
            }

            await using var browser = await Chromium.LaunchAsync("browse", "web", new ViewportSize { Width = 1280, Height = 800 });
            var (context, page, artifacts) = (browser.Context, browser.Page, browser.Artifacts);
            try
            {
                var baseUrl = server.BaseAddress.ToString().TrimEnd('/');
                await BrowserSignIn.AsAdminAsync(page, server.BaseAddress);
                await page.GotoAsync(baseUrl + "/browse");
                await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
                var count = page.Locator("[data-testid=series-count]");
                // New series appear without a reload once they complete (live update), or were there at first render.
                await Assertions.Expect(count).ToHaveTextAsync("4 series", new() { Timeout = 30000 });
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "1-browse.png") });

                await page.Locator("input[aria-label='Modality CT']").CheckAsync(new() { Force = true });
                await Assertions.Expect(count).ToHaveTextAsync("3 series");
                await Assertions.Expect(page).ToHaveURLAsync(new Regex("f\\.Modality=CT"));

                await page.Locator("#study-date-from").FillAsync("2020-01-01");
                await page.Locator("#study-date-from").BlurAsync();
                await page.Locator("#study-date-to").FillAsync("2021-12-31");
                await page.Locator("#study-date-to").BlurAsync();
                await Assertions.Expect(count).ToHaveTextAsync("2 series");
                await Assertions.Expect(page).ToHaveURLAsync(new Regex("from=20200101.*to=20211231"));
                await Assertions.Expect(page.Locator("[data-testid=series-row]")).ToHaveCountAsync(2);
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "2-filtered.png") });

                // The filter lives in the URL: a reload shows the same selection.
                await page.ReloadAsync();
                await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
                await Assertions.Expect(count).ToHaveTextAsync("2 series");

                // Accessibility basics: every form control has a label.
                var unlabelled = await page.EvaluateAsync<string[]>("""
                    () => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')].filter(e =>
                        !(e.getAttribute('aria-label') || e.labels?.length || e.getAttribute('aria-labelledby') || (e.tagName === 'BUTTON' && e.textContent.trim()))
                        && e.offsetParent !== null).map(e => e.outerHTML.substring(0, 200))
                    """);
                Assert.True(unlabelled.Length == 0, $"Visible controls without a label on /browse:{Environment.NewLine}{string.Join(Environment.NewLine, unlabelled)}");

                await page.Locator("[data-testid=series-row] a", new() { HasText = "Thorax CT lung" }).ClickAsync();
                await Assertions.Expect(page).ToHaveURLAsync(new Regex("/series/[0-9.]+$"));
                var viewer = page.Locator("[data-testid=open-viewer]");
                await viewer.WaitForAsync();
                Assert.Equal($"viewer/viewer?StudyInstanceUIDs={study2021}", await viewer.GetAttributeAsync("href"));
                await Assertions.Expect(page.Locator("[data-testid=instance-count]")).ToContainTextAsync("3");
                await Assertions.Expect(page.Locator("[data-testid=attributes]")).ToContainTextAsync("SeriesDescription");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "3-series.png"), FullPage = true });

                // Following the link lands on the viewer's URL (whether OHIF is installed is the viewer's business).
                // The link opens a new tab; what counts here is the address it asks for (OHIF itself is the viewer's business).
                var requested = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                context.Request += (_, r) => { if (r.Url.Contains("/viewer/viewer?")) requested.TrySetResult(r.Url); };
                await viewer.ClickAsync();
                string viewerUrl = await requested.Task.WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Equal($"{baseUrl}/viewer/viewer?StudyInstanceUIDs={study2021}", viewerUrl);

                await page.GotoAsync(baseUrl + "/dashboard");
                await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
                await Assertions.Expect(page.Locator("[data-testid=total-series]")).ToHaveTextAsync("4");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "4-dashboard.png"), FullPage = true });
                await page.Locator("[aria-label='Browse Modality MR']").ClickAsync();
                await Assertions.Expect(page).ToHaveURLAsync(new Regex("/browse\\?.*f\\.Modality=MR"));
                await Assertions.Expect(count).ToHaveTextAsync("1 series");

                // Live update: a series pushed while the page is open appears without a reload once it completes.
                await page.GotoAsync(baseUrl + "/browse");
                await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
                await Assertions.Expect(count).ToHaveTextAsync("4 series");
                var late = Directory.CreateDirectory(Path.Combine(data.FullName, "late"));
                await File.WriteAllBytesAsync(Path.Combine(late.FullName, "late.dcm"), TestInstances.Create(new TestInstances.Spec(
                    "PAT-W2", "Late^Arrival", TestInstances.NewUid(), TestInstances.NewUid(), TestInstances.NewUid(), Modality: "MR", Size: 64)));
                var lateStore = await DicomTools.RunAsync("storescu", "+sd", "+r", "-aec", "KAAPANA", "127.0.0.1", server.DicomPort.ToString(), late.FullName);
                Assert.True(lateStore.ExitCode == 0, lateStore.Output);
                await Assertions.Expect(count).ToHaveTextAsync("5 series", new() { Timeout = 30000 });
                await Assertions.Expect(page.Locator("[data-testid=live-update]")).ToContainTextAsync("1 new series");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "5-live-update.png") });
            }
            catch (Exception ex) when (ex is PlaywrightException or TimeoutException or Xunit.Sdk.XunitException)
            {
                throw await browser.FailureAsync(ex, server.Output);
            }
        }
        finally
        {
            if (server is not null) await server.DisposeAsync();
            data.Delete(recursive: true);
        }
    }
}
