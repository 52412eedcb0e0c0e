using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kaapana.Tests.Archive;
using Kaapana.Tests.Archive.Dicom;
using Kaapana.Tests.Browser;
using Kaapana.Tests.Viewer;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace Kaapana.Tests.Web;

/// <summary>
/// The researcher's day in Debian's Chromium against the real server, data pushed with DCMTK storescu: filter CT and a date
/// range, select three series (click, shift-click), create a dataset, tag them (tag input, then the 1 key off and on), reload
/// and find tag and dataset persisted, freeze a version, download the dataset zip (entries byte-identical to the stored
/// files, with progress), open a series in OHIF. Screenshots under Kaapana.Tests/TestResults/web/.
/// </summary>
public sealed class ResearcherFlowTests
{
    private const string Tag = "lung-review";

    [Fact]
    public async Task Filter_select_create_dataset_tag_with_key_1_persist_download_and_open_in_viewer()
    {
        Assert.True(File.Exists(Chromium.ExecutablePath), $"{Chromium.ExecutablePath} not found: install the Debian package chromium.");
        var data = Directory.CreateTempSubdirectory("kaapana-researcher-");
        var files = Directory.CreateDirectory(Path.Combine(data.FullName, "send"));
        var server = default(KaapanaServer);
        try
        {
            // Five series: CT 2021 (a study with two series), CT 2021-06, CT 2015, MR 2021. Modality=CT and 2020–2021: three.
            string study2021 = TestInstances.NewUid(), studyJune = TestInstances.NewUid(), study2015 = TestInstances.NewUid(), studyMr = TestInstances.NewUid();
            var series = new[]
            {
                ("CT", study2021, "20210305", "Thorax CT"), ("CT", study2021, "20210305", "Thorax CT lung"), ("CT", studyJune, "20210610", "Abdomen CT"),
                ("CT", study2015, "20150101", "Old CT"), ("MR", studyMr, "20211010", "Brain MR"),
            };
            int n = 0;
            foreach (var (modality, study, date, description) in series)
            {
                n++;
                string seriesUid = TestInstances.NewUid();
                for (int i = 1; i <= 3; i++)
                {
                    var bytes = TestInstances.Create(new TestInstances.Spec($"PAT-R{n}", $"Researcher^{n}", study, seriesUid, TestInstances.NewUid(),
                        Modality: modality, InstanceNumber: i, Size: 64, SeriesDescription: description, SeriesNumber: n, StudyDate: date));
                    await File.WriteAllBytesAsync(Path.Combine(files.FullName, $"{n}-{i}.dcm"), bytes);
                }
            }

            server = await KaapanaServer.StartAsync(data.FullName, new Dictionary<string, string>
            {
                // MudBlazor's static files need Development when the server runs from build output (FIELD-NOTES).
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["Kaapana__Archive__SeriesQuietPeriod"] = "00:00:01",
                ["Kaapana__Viewer__InstallRoot"] = ViewerServer.SharedInstallRoot,
            });
            Environment.SetEnvironmentVariable("TCP_NODELAY", "1");
            var store = await DicomTools.RunAsync("storescu", "+sd", "+r", "-aec", "KAAPANA", "127.0.0.1", server.DicomPort.ToString(), files.FullName);
            Assert.True(store.ExitCode == 0, store.Output);

            await using var browser = await Chromium.LaunchAsync("researcher-flow", "web", new ViewportSize { Width = 1280, Height = 800 });
            var (context, page, artifacts) = (browser.Context, browser.Page, browser.Artifacts);
            try
            {
                var baseUrl = server.BaseAddress.ToString().TrimEnd('/');
                await BrowserSignIn.AsAdminAsync(page, server.BaseAddress);
                await page.GotoAsync(baseUrl + "/browse");
                await Interactive(page);
                var count = page.Locator("[data-testid=series-count]");
                await Assertions.Expect(count).ToHaveTextAsync("5 series", new() { Timeout = 30000 });

                await page.Locator("input[aria-label='Modality CT']").CheckAsync(new() { Force = true });
                await Assertions.Expect(count).ToHaveTextAsync("4 series");
                await page.Locator("#study-date-from").FillAsync("2020-01-01");
                await page.Locator("#study-date-from").BlurAsync();
                await page.Locator("#study-date-to").FillAsync("2021-12-31");
                await page.Locator("#study-date-to").BlurAsync();
                await Assertions.Expect(count).ToHaveTextAsync("3 series");
                var rows = page.Locator("[data-testid=series-row]");
                await Assertions.Expect(rows).ToHaveCountAsync(3);
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "1-filtered.png") });

                // Select: the first row's box, then shift-click the third row: the range holds all three.
                var selected = page.Locator("[data-testid=selection-count]");
                await rows.Nth(0).Locator("[data-testid=select-row]").ClickAsync();
                await Assertions.Expect(selected).ToHaveTextAsync("1 selected");
                await rows.Nth(2).Locator("[data-testid=select-row]").ClickAsync(new() { Modifiers = [KeyboardModifier.Shift] });
                await Assertions.Expect(selected).ToHaveTextAsync("3 selected");
                await Assertions.Expect(page.Locator("[data-testid=select-row]:checked")).ToHaveCountAsync(3);

                await page.Locator("[data-testid=create-dataset]").ClickAsync();
                await page.Locator("#new-dataset-name").FillAsync("Thorax cohort");
                await page.Locator("[data-testid=create-dataset-confirm]").ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid=selection-message]")).ToContainTextAsync("3 series added to dataset 'Thorax cohort'");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "2-dataset-created.png") });

                // The tag input creates the tag (it becomes key 1); then key 1 toggles it off and on again.
                var chips = page.Locator("[data-testid=series-row] [data-testid=tag-chip]", new() { HasText = Tag });
                await page.Locator("#tag-input").FillAsync(Tag);
                await page.Locator("#tag-input").PressAsync("Escape");
                await page.Locator("[data-testid=add-tag]").ClickAsync();
                await Assertions.Expect(chips).ToHaveCountAsync(3);
                await Assertions.Expect(page.Locator("[data-testid=tag-legend]")).ToContainTextAsync("1 " + Tag);
                await page.EvaluateAsync("() => document.activeElement?.blur()"); // digits typed in a text field are text, not shortcuts
                await page.Keyboard.PressAsync("1");
                await Assertions.Expect(chips).ToHaveCountAsync(0);
                await Assertions.Expect(page.Locator("[data-testid=selection-message]")).ToContainTextAsync($"'{Tag}' removed from 3 series");
                await page.Keyboard.PressAsync("1");
                await Assertions.Expect(chips).ToHaveCountAsync(3);
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "3-tagged.png") });

                // Persisted: after a reload the tags are there and the Tags facet counts them; the dataset lists three series.
                await page.ReloadAsync();
                await Interactive(page);
                await Assertions.Expect(count).ToHaveTextAsync("3 series");
                await Assertions.Expect(chips).ToHaveCountAsync(3);
                await Assertions.Expect(page.Locator("[data-testid=facet-Tags]")).ToContainTextAsync($"{Tag} (3)");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "4-reloaded.png") });

                await page.GotoAsync(baseUrl + "/datasets");
                await Interactive(page);
                var datasetRow = page.Locator("[data-testid=dataset-row]", new() { HasText = "Thorax cohort" });
                await Assertions.Expect(datasetRow.Locator("[data-testid=dataset-series]")).ToHaveTextAsync("3");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "5-datasets.png") });

                await datasetRow.Locator("a", new() { HasText = "Thorax cohort" }).ClickAsync();
                await Assertions.Expect(page).ToHaveURLAsync(new Regex("/datasets/[0-9]+$"));
                await Interactive(page);
                await Assertions.Expect(page.Locator("[data-testid=dataset-series-row]")).ToHaveCountAsync(3);
                await page.Locator("#version-note").FillAsync("first cut");
                await page.Locator("[data-testid=freeze]").ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid=version-row]")).ToHaveCountAsync(1);
                await Assertions.Expect(page.Locator("[data-testid=version-row]")).ToContainTextAsync("9 instances");
                await Assertions.Expect(page.Locator("[data-testid=version-hash]")).ToHaveTextAsync(new Regex("^[0-9a-f]{64}$"));

                // The zip: size shown before, progress while it streams, entries byte-identical to the stored files.
                var link = page.Locator("[data-testid=download-zip]");
                await Assertions.Expect(link).ToContainTextAsync("9 files");
                // The link carries the page's progress token. Fetched here by an authenticated client rather than by Chromium's
                // download manager (headless Chromium cancelled the download under Playwright); the page shows its progress all the same.
                var href = await link.GetAttributeAsync("href") ?? "";
                Assert.Matches("^api/datasets/[0-9]+/zip\\?token=[0-9a-f]{32}$", href);
                string zipPath = Path.Combine(data.FullName, "download.zip");
                using (var http = server.CreateClient())
                using (var response = await http.GetAsync(href, HttpCompletionOption.ResponseHeadersRead))
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
                    Assert.Equal("default-Thorax_cohort.zip", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
                    await using var file = File.Create(zipPath);
                    await response.Content.CopyToAsync(file);
                }
                await Assertions.Expect(page.Locator("[data-testid=export-progress]")).ToContainTextAsync("Downloaded: 9 of 9 files", new() { Timeout = 15000 });
                using (var http = server.CreateClient())
                {
                    // The same progress over REST; unknown tokens are a clear 404 / 400, not a 500.
                    string token = href[(href.IndexOf("token=", StringComparison.Ordinal) + 6)..];
                    var status = await http.GetFromJsonAsync<JsonElement>($"/api/exports/{token}");
                    Assert.Equal("Done", status.GetProperty("state").GetString());
                    Assert.Equal(9, status.GetProperty("progress").GetProperty("instancesDone").GetInt32());
                    Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/exports/0123456789abcdef0123456789abcdef")).StatusCode);
                    Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(href[..href.IndexOf('?')] + "?token=nope")).StatusCode);

                    // Tags over REST: autocomplete by prefix, and a change on series by UID; bad input is a 400 with a reason.
                    var suggestions = await http.GetFromJsonAsync<JsonElement>("/api/tags?prefix=LUNG");
                    Assert.Equal(Tag, suggestions[0].GetProperty("tag").GetString());
                    var seriesUid = (await http.GetFromJsonAsync<JsonElement>("/api/series?modality=MR")).GetProperty("items")[0].GetProperty("seriesInstanceUID").GetString();
                    using var added = await http.PostAsJsonAsync("/api/series/tags", new { seriesUids = new[] { seriesUid }, add = new[] { "from-script" } });
                    Assert.Equal(HttpStatusCode.OK, added.StatusCode);
                    Assert.Equal(1, (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("added").GetInt32());
                    using var bad = await http.PostAsJsonAsync("/api/series/tags", new { seriesUids = new[] { seriesUid }, add = new[] { " " } });
                    Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                    Assert.Contains("not a valid tag", await bad.Content.ReadAsStringAsync());
                    using var none = await http.PostAsJsonAsync("/api/series/tags", new { add = new[] { "x" } });
                    Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
                }
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "6-dataset.png"), FullPage = true });
                var stored = StoredFiles(server);
                using (var zip = ZipFile.OpenRead(zipPath))
                {
                    Assert.Equal(9, zip.Entries.Count);
                    foreach (var entry in zip.Entries)
                    {
                        using var ms = new MemoryStream();
                        await using (var es = entry.Open()) await es.CopyToAsync(ms);
                        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(server.ArchiveDir, stored[entry.Name[..^4]])), ms.ToArray());
                    }
                }
                using (var admin = server.CreateClient())
                {
                    // The download is in the audit trail: who, which dataset, how many instances.
                    var exports = (await AuditTrailPoll.WaitAsync(admin, "action=export.zip", items => items.Count >= 1)).Items;
                    Assert.Contains(exports, e => e.GetProperty("actor").GetString() == TestCredentials.AdminUser
                        && e.GetProperty("target").GetString()!.Contains("Thorax", StringComparison.Ordinal) && e.GetProperty("outcome").GetString() == "success");
                }

                // The series page shows the tag; "Open in viewer" opens OHIF, which draws into its canvas.
                await page.Locator("[data-testid=dataset-series-row] a", new() { HasText = "Thorax CT lung" }).ClickAsync();
                await Assertions.Expect(page).ToHaveURLAsync(new Regex("/series/[0-9.]+$"));
                await Interactive(page);
                await Assertions.Expect(page.Locator("[data-testid=series-tags]")).ToContainTextAsync(Tag);
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "7-series.png"), FullPage = true });
                await WaitForViewerAsync(server);
                var viewer = await context.RunAndWaitForPageAsync(() => page.Locator("[data-testid=open-viewer]").ClickAsync());
                await viewer.Locator("canvas.cornerstone-canvas").First.WaitForAsync(new() { Timeout = 90000 });
                await viewer.SetViewportSizeAsync(1280, 800);
                await viewer.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "8-viewer.png") });

                // Admin only: delete the MR series, after a confirmation naming what goes.
                await page.GotoAsync(baseUrl + "/browse?f.Modality=MR");
                await Interactive(page);
                await Assertions.Expect(count).ToHaveTextAsync("1 series");
                await rows.Nth(0).Locator("[data-testid=select-row]").ClickAsync();
                await page.Locator("[data-testid=delete-series]").ClickAsync();
                var dialog = page.GetByRole(AriaRole.Dialog);
                await Assertions.Expect(dialog).ToContainTextAsync("Delete 1 series with 3 instances");
                await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "9-delete-confirm.png") });
                await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
                await Assertions.Expect(count).ToHaveTextAsync("0 series");
                await Assertions.Expect(page.Locator("[data-testid=selection-message]")).ToContainTextAsync("Deleted 1 series");
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

    private static Task Interactive(IPage page) =>
        page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });

    /// <summary>SOP Instance UID → storage path, read from the server's index (WAL: readers do not block it).</summary>
    private static Dictionary<string, string> StoredFiles(KaapanaServer server)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = server.IndexPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT SOPInstanceUID, StoragePath FROM Instances";
        using var reader = command.ExecuteReader();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read()) result[reader.GetString(0)] = reader.GetString(1);
        return result;
    }

    /// <summary>The viewer is installed from the shared cache folder; wait until /viewer/ serves it.</summary>
    private static async Task WaitForViewerAsync(KaapanaServer server)
    {
        using var http = server.CreateClient();
        var until = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < until)
        {
            using var response = await http.GetAsync("/viewer/");
            if (response.StatusCode == HttpStatusCode.OK) return;
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"/viewer/ answered {(int)response.StatusCode}");
            await Task.Delay(250);
        }
        Assert.Fail("/viewer/ did not become ready within 5 minutes.");
    }
}
