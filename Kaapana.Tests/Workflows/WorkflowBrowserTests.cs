using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Browser;
using Kaapana.Tests.Dicom.Imaging;
using Kaapana.Tests.Viewer;
using Kaapana.Tests.Workflows.Algorithms;
using Kaapana.Tests.Workflows.Docker;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Kaapana.Tests.Workflows;

/// <summary>
/// The workflow pages in Chromium against the real server and the test Docker daemon: register threshold-seg from its
/// image, launch it from the UI on a 3-series CT dataset, watch the run page reach Succeeded without a reload, open a
/// derived SEG over its CT in OHIF, read the provenance on the series page; and a failing image shows its stderr.
/// Screenshots under Kaapana.Tests/TestResults/web.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class WorkflowBrowserTests(DockerTestEngine docker, ITestOutputHelper output)
{
    private const int Slices = 12, Size = 96;
    private const string SegmentLabel = "Dense disc";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ThresholdSegLaunchedFromTheUiRunsLiveToSucceededAndItsSegShowsInOhifWithProvenance() => await WithEngineServerAsync("kaapana-wfui-test-", async server =>
    {
        using (var runner = docker.NewRunner()) await AlgorithmImages.RequireAsync(runner, docker, AlgorithmImages.ThresholdSeg);
        var baseUri = server.Server.BaseAddress;
        var http = server.Http;
        string study = DicomUidGenerator.New();
        var series = await SeedDatasetAsync(http, study, "ct-three", 3);

        await InBrowserAsync(nameof(ThresholdSegLaunchedFromTheUiRunsLiveToSucceededAndItsSegShowsInOhifWithProvenance), server, async (browser, page) =>
        {
            await BrowserSignIn.AsAdminAsync(page, baseUri);

            // Register from the image alone: its org.kaapana.algorithm label is the manifest.
            await OpenAsync(page, baseUri, "/algorithms");
            await page.Locator("[data-testid=register-image] input").FillAsync(AlgorithmImages.ThresholdSeg);
            await page.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=register-result]")).ToContainTextAsync("Registered threshold-seg", new() { Timeout = 30000 });
            var row = page.Locator("[data-testid=algorithm-row][data-name=threshold-seg]");
            await Assertions.Expect(row).ToContainTextAsync("sha256:");
            await browser.ScreenshotAsync("1-registered");

            // A manifest that does not validate is refused with its problems listed.
            await page.Locator("[data-testid=register-image] input").FillAsync(DockerTestEngine.Image("succeed"));
            await page.Locator("[data-testid=register-manifest] textarea").FillAsync("""{"name":"Bad Name!","version":"","parameters":[{"name":"x","type":"integer","min":5,"max":1}]}""");
            await page.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
            var problems = page.Locator("[data-testid=register-errors] li");
            await Assertions.Expect(problems.First).ToBeVisibleAsync(new() { Timeout = 30000 });
            output.WriteLine("Refused manifest: " + string.Join(" | ", await problems.AllInnerTextsAsync()));
            Assert.True(await problems.CountAsync() >= 2, string.Join(" | ", await problems.AllInnerTextsAsync()));
            await browser.ScreenshotAsync("2-manifest-refused");

            // Launch from the algorithm's page: the dataset, a new frozen version, parameters from the manifest.
            await row.Locator("a").ClickAsync();
            await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
            await page.Locator("[data-testid=run-algorithm]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=launch-dataset]")).ToContainTextAsync("ct-three");
            await page.Locator("[data-testid=param-lower] input").FillAsync("70000");
            await Assertions.Expect(page.Locator("[data-testid=param-lower]")).ToContainTextAsync("above the maximum");
            await page.Locator("[data-testid=param-lower] input").FillAsync("500");
            await page.Locator("[data-testid=param-upper] input").FillAsync("900");
            await page.Locator("[data-testid=param-label] input").FillAsync(SegmentLabel);
            await browser.ScreenshotAsync("3-launch-form");
            await page.Locator("[data-testid=launch]").ClickAsync();
            await page.WaitForURLAsync(new Regex("/runs/\\d+$"), new() { Timeout = 30000 });
            await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
            long runId = long.Parse(page.Url[(page.Url.LastIndexOf('/') + 1)..]);

            // Live: a marker set now survives only if the page is never reloaded while the state changes.
            await page.EvaluateAsync("() => window.kaapanaNoReload = true");
            var firstState = await page.Locator("[data-testid=run-state]").First.GetAttributeAsync("data-state");
            output.WriteLine($"Run {runId} first shown as {firstState}");
            await browser.ScreenshotAsync("4-run-started");
            await Assertions.Expect(page.Locator("[data-testid=run-state]").First).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = (float)Patience.TotalMilliseconds });
            Assert.True(await page.EvaluateAsync<bool>("() => window.kaapanaNoReload === true"), "the run page was reloaded");
            Assert.NotEqual("Succeeded", firstState);
            await Assertions.Expect(page.Locator("[data-testid=item-row][data-state=Succeeded]")).ToHaveCountAsync(3);
            await Assertions.Expect(page.Locator("[data-testid=item-log]")).ToContainTextAsync("container", new() { Timeout = 30000 });
            await Assertions.Expect(page.Locator("[data-testid=derived-row]")).ToHaveCountAsync(3, new() { Timeout = 30000 });
            await browser.ScreenshotAsync("5-run-succeeded");
            var run = (await http.GetFromJsonAsync<JsonObject>($"/api/runs/{runId}"))!;
            Assert.Equal("""{"lower":500,"upper":900,"label":"Dense disc"}""", run["parameters"]!.ToJsonString());

            // The runs list shows it ended, with its target and progress.
            await OpenAsync(page, baseUri, "/runs");
            var listed = page.Locator($"[data-testid=run-row][data-run='{runId}']");
            await Assertions.Expect(listed.Locator("[data-testid=run-state]")).ToHaveAttributeAsync("data-state", "Succeeded");
            await Assertions.Expect(listed).ToContainTextAsync("ct-three v1");
            await Assertions.Expect(listed.Locator("[data-testid=run-progress]")).ToHaveTextAsync("3/3");
            await page.GotoAsync(new Uri(baseUri, $"/runs/{runId}").ToString());
            await Assertions.Expect(page.Locator("[data-testid=derived-row]")).ToHaveCountAsync(3, new() { Timeout = 30000 });

            // The derived series' page: provenance.
            await page.Locator("[data-testid=derived-row] a").First.ClickAsync();
            await page.WaitForURLAsync(new Regex("/series/[0-9.]+$"));
            var provenance = page.Locator("[data-testid=provenance]");
            await Assertions.Expect(provenance.Locator("[data-testid=provenance-algorithm]")).ToContainTextAsync("threshold-seg 1.0.0", new() { Timeout = 30000 });
            await Assertions.Expect(provenance.Locator("[data-testid=provenance-exit-code]")).ToHaveTextAsync("0");
            await Assertions.Expect(provenance.Locator("[data-testid=provenance-parameters]")).ToContainTextAsync(SegmentLabel);
            await Assertions.Expect(provenance.Locator("[data-testid=provenance-dataset]")).ToContainTextAsync("ct-three version 1");
            await Assertions.Expect(provenance.Locator("[data-testid=provenance-run]")).ToHaveAttributeAsync("href", $"runs/{runId}");
            Assert.StartsWith("sha256:", await provenance.Locator("[data-testid=provenance-digest]").InnerTextAsync());
            var source = await provenance.Locator("[data-testid=provenance-sources] a").InnerTextAsync();
            Assert.Contains(source, series);
            var json = (await page.Locator("[data-testid=provenance-json]").GetAttributeAsync("href"))!;
            Assert.EndsWith("/provenance", json);
            var fromApi = (await http.GetFromJsonAsync<JsonObject>(new Uri(baseUri, json).ToString()))!;
            Assert.Equal(runId, fromApi["run"]!["id"]!.GetValue<long>());
            await browser.ScreenshotAsync("6-provenance");

            // OHIF: the study holds the CTs and their SEGs; loading a SEG shows its segment in the segmentation panel.
            await server.WaitUntilViewerReadyAsync();
            await page.GotoAsync(new Uri(baseUri, $"/viewer/viewer?StudyInstanceUIDs={study}").ToString());
            var segThumbnail = page.Locator("[data-cy='series-modality-label']", new() { HasTextString = "SEG" }).First;
            await segThumbnail.WaitForAsync(new() { Timeout = (float)Patience.TotalMilliseconds });
            await segThumbnail.DblClickAsync();
            await Kaapana.Tests.Viewer.ViewerBrowserTests.ConfirmIfAskedAsync(page);
            var panelTab = page.Locator("[data-cy$='-btn'][data-cy*='egmentation']").First;
            if (await panelTab.CountAsync() > 0 && await panelTab.IsVisibleAsync()) await panelTab.ClickAsync();
            var segment = page.Locator("[data-cy='data-row-title']", new() { HasTextString = SegmentLabel }).First;
            await segment.WaitForAsync(new() { Timeout = (float)Patience.TotalMilliseconds });
            await browser.ScreenshotAsync("7-ohif-segmentation");
            output.WriteLine($"OHIF segment row: '{await segment.InnerTextAsync()}'");
        });
    });

    [Fact]
    public async Task AFailingImageShowsTheItemFailedWithItsStderrOnTheRunPage() => await WithEngineServerAsync("kaapana-wfui-fail-", async server =>
    {
        var baseUri = server.Server.BaseAddress;
        await SeedDatasetAsync(server.Http, DicomUidGenerator.New(), "one-ct", 1);
        await InBrowserAsync(nameof(AFailingImageShowsTheItemFailedWithItsStderrOnTheRunPage), server, async (browser, page) =>
        {
            await BrowserSignIn.AsAdminAsync(page, baseUri);
            // The fail image has no label: its manifest is pasted.
            await OpenAsync(page, baseUri, "/algorithms");
            await page.Locator("[data-testid=register-image] input").FillAsync(DockerTestEngine.Image("fail"));
            await page.Locator("[data-testid=register-manifest] textarea").FillAsync("""{"name":"always-fails","version":"1.0.0","title":"Always fails","input":{"scope":"dataset"}}""");
            await page.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=register-result]")).ToContainTextAsync("Registered always-fails", new() { Timeout = 30000 });

            await page.Locator("[data-testid=algorithm-row][data-name=always-fails] a").ClickAsync();
            await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
            await page.Locator("[data-testid=run-algorithm]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=no-parameters]")).ToBeVisibleAsync();
            await page.Locator("[data-testid=launch]").ClickAsync();
            await page.WaitForURLAsync(new Regex("/runs/\\d+$"), new() { Timeout = 30000 });
            await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });

            await Assertions.Expect(page.Locator("[data-testid=run-state]").First).ToHaveAttributeAsync("data-state", "Failed", new() { Timeout = (float)Patience.TotalMilliseconds });
            var item = page.Locator("[data-testid=item-row]");
            await Assertions.Expect(item).ToHaveAttributeAsync("data-state", "Failed");
            await Assertions.Expect(item.Locator("[data-testid=item-exit-code]")).ToHaveTextAsync("3");
            await Assertions.Expect(item.Locator("[data-testid=item-error]")).ToContainTextAsync("fail: cannot read input: no such series");
            await Assertions.Expect(page.Locator("[data-testid=item-log] .k-stderr")).ToContainTextAsync("fail: cannot read input: no such series", new() { Timeout = 30000 });
            await Assertions.Expect(page.Locator("[data-testid=retry-failed]")).ToBeEnabledAsync();
            await browser.ScreenshotAsync("1-failed-with-stderr");

            // Retry failed: the same item runs again (one retry) and fails again, live.
            var runUrl = page.Url;
            // The run's command buttons sit in its first row, which the fixed app bar covers once scrolled to the top
            // (MainLayout's "pa-4" on MudMainContent drops the app bar offset), so the click is dispatched to the button.
            await page.Locator("[data-testid=retry-failed]").DispatchEventAsync("click");
            await Assertions.Expect(page.Locator("[data-testid=command-result]")).ToContainTextAsync("queued again");
            await Assertions.Expect(item.Locator("[data-testid=item-retries]")).ToHaveTextAsync("1", new() { Timeout = (float)Patience.TotalMilliseconds });
            await Assertions.Expect(page.Locator("[data-testid=run-state]").First).ToHaveAttributeAsync("data-state", "Failed", new() { Timeout = (float)Patience.TotalMilliseconds });
            await Assertions.Expect(item).ToHaveAttributeAsync("data-state", "Failed");

            // Re-run with the same settings: a new run, which says whose re-run it is.
            await page.Locator("[data-testid=rerun]").DispatchEventAsync("click");
            await page.WaitForURLAsync(url => url != runUrl && Regex.IsMatch(url, "/runs/\\d+$"), new() { Timeout = 30000 });
            await Assertions.Expect(page.Locator("[data-testid=run-facts]")).ToContainTextAsync($"re-run of #{runUrl[(runUrl.LastIndexOf('/') + 1)..]}");
            await Assertions.Expect(page.Locator("[data-testid=run-state]").First).ToHaveAttributeAsync("data-state", "Failed", new() { Timeout = (float)Patience.TotalMilliseconds });
            await browser.ScreenshotAsync("2-rerun-failed");
        });
    });

    [Fact]
    public async Task WithoutADockerEngineTheWorkflowPagesSaySoAndTheRestOfTheUiWorks()
    {
        await using var server = await ViewerServer.StartAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Kaapana__Viewer__InstallRoot"] = ViewerServer.SharedInstallRoot,
            ["Kaapana__Docker__Endpoint"] = $"unix:///tmp/no-docker-{Guid.NewGuid():N}.sock",
        });
        var baseUri = server.Server.BaseAddress;
        await InBrowserAsync(nameof(WithoutADockerEngineTheWorkflowPagesSaySoAndTheRestOfTheUiWorks), server, async (browser, page) =>
        {
            await BrowserSignIn.AsAdminAsync(page, baseUri);
            foreach (var path in new[] { "/algorithms", "/runs" })
            {
                await OpenAsync(page, baseUri, path);
                var banner = page.Locator("[data-testid=engine-unavailable]");
                await Assertions.Expect(banner).ToContainTextAsync("Workflow engine unavailable:", new() { Timeout = 30000 });
                await Assertions.Expect(banner).ToContainTextAsync("no-docker-");
            }
            await Assertions.Expect(page.Locator("[data-testid=no-runs]")).ToBeVisibleAsync();
            await OpenAsync(page, baseUri, "/algorithms");
            await Assertions.Expect(page.Locator("[data-testid=register] button", new() { HasTextString = "Register" })).ToBeDisabledAsync();
            await browser.ScreenshotAsync("1-engine-unavailable");
            // The rest of the UI is unaffected.
            await OpenAsync(page, baseUri, "/browse");
            await Assertions.Expect(page.Locator("[data-testid=series-count]")).ToContainTextAsync("0 series");
            await Assertions.Expect(page.Locator("[data-testid=engine-unavailable]")).ToHaveCountAsync(0);
        });
    }

    /// <summary>
    /// A server on the test Docker daemon under an instance id of its own (prefix + a fresh GUID); afterwards every container
    /// of that id is removed, whatever the test left running.
    /// </summary>
    private async Task WithEngineServerAsync(string instancePrefix, Func<ViewerServer, Task> test)
    {
        var instanceId = instancePrefix + Guid.NewGuid().ToString("N");
        await using var server = await StartServerAsync(instanceId);
        try
        {
            await test(server);
        }
        finally
        {
            using var runner = docker.NewRunner(o => o.InstanceId = instanceId);
            await runner.ReconcileAsync(new HashSet<string>());
        }
    }

    /// <summary>
    /// Chromium at 1280×800 with artifacts named for the test; if <paramref name="steps"/> fail, a screenshot, the browser log
    /// and the server's output are kept before the failure propagates.
    /// </summary>
    private async Task InBrowserAsync(string testName, ViewerServer server, Func<Chromium, IPage, Task> steps)
    {
        await using var browser = await Chromium.LaunchAsync(testName, "web", new ViewportSize { Width = 1280, Height = 800 });
        output.WriteLine($"Artifacts: {browser.Artifacts}");
        try
        {
            await steps(browser, browser.Page);
        }
        catch
        {
            await browser.ScreenshotAsync("failure");
            output.WriteLine(browser.Log);
            output.WriteLine(server.Server.Output);
            throw;
        }
    }

    private async Task<ViewerServer> StartServerAsync(string instanceId) => await ViewerServer.StartAsync(new Dictionary<string, string>
    {
        // MudBlazor's static files need Development when the server runs from build output (FIELD-NOTES).
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["Kaapana__Viewer__InstallRoot"] = ViewerServer.SharedInstallRoot,
        ["Kaapana__Docker__Endpoint"] = docker.Endpoint,
        ["Kaapana__Docker__InstanceId"] = instanceId,
    });

    private static async Task OpenAsync(IPage page, Uri baseUri, string path)
    {
        await page.GotoAsync(new Uri(baseUri, path).ToString());
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
    }

    /// <summary>Uploads <paramref name="count"/> synthetic CT series of one study into the default project and puts them in a new dataset.</summary>
    private static async Task<List<string>> SeedDatasetAsync(HttpClient http, string study, string datasetName, int count)
    {
        var series = new List<string>();
        using var form = new MultipartFormDataContent();
        for (int s = 0; s < count; s++)
        {
            var files = SyntheticCt.Series(Slices, Size, study);
            series.Add(files[0].Dataset.Get<string>(DicomTags.SeriesInstanceUID)!);
            foreach (var f in files)
            {
                using var ms = new MemoryStream();
                f.Save(ms);
                var part = new ByteArrayContent(ms.ToArray());
                part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
                form.Add(part, "files", $"{Guid.NewGuid():N}.dcm");
            }
        }
        var upload = await http.PostAsync("/api/uploads?project=default", form);
        Assert.True(upload.StatusCode == HttpStatusCode.OK, await upload.Content.ReadAsStringAsync());
        var created = await http.PostAsJsonAsync("/api/projects/default/datasets", new { name = datasetName });
        var dataset = await created.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(created.StatusCode == HttpStatusCode.Created, dataset?.ToJsonString());
        var added = await http.PostAsJsonAsync($"/api/datasets/{dataset!["id"]}/series", new { seriesInstanceUIDs = series });
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        return series;
    }
}
