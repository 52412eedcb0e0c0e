using System.Collections.Concurrent;
using Kaapana.Dicom;
using Kaapana.Server.Infrastructure;
using Kaapana.Tests.Browser;
using Kaapana.Tests.Dicom.Imaging;
using Kaapana.Tests.Viewer;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Kaapana.Tests.Auth.Hardening;

/// <summary>
/// Chromium under the Content-Security-Policy the server sends: the UI pages (Blazor interactive server + MudBlazor), the
/// jobs dashboard and OHIF with a stored study work and the browser reports no policy violation. In the viewer collection:
/// it uses the shared OHIF install. Screenshots in <c>Kaapana.Tests/TestResults/web/csp-*</c>.
/// </summary>
[Collection(ViewerCollection.Name)]
public sealed class CspBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ui_pages_jobs_and_the_viewer_run_under_the_policy_without_violations()
    {
        await using var server = await ViewerServer.StartAsync(new Dictionary<string, string>
        {
            ["Kaapana__Viewer__InstallRoot"] = ViewerServer.SharedInstallRoot,
            ["ASPNETCORE_ENVIRONMENT"] = "Development", // MudBlazor's static files from build output (FIELD-NOTES)
        });
        await server.WaitUntilViewerReadyAsync();
        var ct = SyntheticCt.Series(8, 128);
        var studyUid = ct[0].Dataset.Get<string>(DicomTags.StudyInstanceUID)!;
        await ViewerBrowserTests.UploadAsync(server, ct);
        // JPEG 2000 frames are sent as stored and decoded in the browser by OHIF's WebAssembly codec in a worker.
        var j2k = DicomFile.Open(ImagingTools.SampleFile("MR_small_jp2klossless.dcm"));
        var j2kStudyUid = j2k.Dataset.Get<string>(DicomTags.StudyInstanceUID)!;
        await ViewerBrowserTests.UploadAsync(server, [j2k]);

        await using var browser = await Chromium.LaunchAsync("csp", "web", new ViewportSize { Width = 1280, Height = 800 });
        output.WriteLine($"Artifacts: {browser.Artifacts}");
        var page = browser.Page;
        // Chromium logs each violation to the console; the DOM event also catches reports the console might word differently.
        var violations = new ConcurrentQueue<string>();
        page.Console += (_, m) =>
        {
            if (m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) || m.Text.StartsWith("CSP violation", StringComparison.Ordinal))
                violations.Enqueue($"{page.Url}: {m.Text}");
        };
        await page.AddInitScriptAsync(
            "document.addEventListener('securitypolicyviolation', e => console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));");
        var baseAddress = server.Server.BaseAddress;
        try
        {
            await BrowserSignIn.AsAdminAsync(page, baseAddress);
            foreach (var path in new[] { "/", "/browse", "/admin/users" })
            {
                var response = await page.GotoAsync(new Uri(baseAddress, path).ToString());
                Assert.Equal(SecurityHeaders.AppPolicy, await response!.HeaderValueAsync("content-security-policy"));
                // Interactive means blazor.web.js ran and its WebSocket connected under connect-src 'self'.
                await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            }
            await browser.ScreenshotAsync("1-admin-users");

            var jobs = await page.GotoAsync(new Uri(baseAddress, "/jobs").ToString());
            Assert.Equal(200, jobs!.Status);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await browser.ScreenshotAsync("2-jobs");

            // OHIF: its own DICOMweb frame requests must succeed and a canvas must show, for an uncompressed and a JPEG 2000 study.
            foreach (var (study, name) in new[] { (studyUid, "3-viewer-ct"), (j2kStudyUid, "4-viewer-j2k") })
            {
                var frames = page.WaitForResponseAsync(r => r.Url.Contains("/dicomweb/", StringComparison.Ordinal)
                    && r.Url.Contains("/frames/", StringComparison.Ordinal) && r.Status == 200, new() { Timeout = 90000 });
                var viewer = await page.GotoAsync(new Uri(baseAddress, $"/viewer/viewer?StudyInstanceUIDs={study}").ToString());
                Assert.Equal(SecurityHeaders.ViewerPolicy, await viewer!.HeaderValueAsync("content-security-policy"));
                await frames;
                await page.Locator("canvas.cornerstone-canvas").First.WaitForAsync(new() { Timeout = 90000 });
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
                await browser.ScreenshotAsync(name);
            }

            Assert.True(violations.IsEmpty, "Content-Security-Policy violations:\n" + string.Join("\n", violations));
        }
        catch
        {
            await browser.ScreenshotAsync("failure");
            output.WriteLine(browser.Log);
            throw;
        }
    }
}
