using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kaapana.Dicom;
using Kaapana.Dicom.Imaging.Segmentation;
using Kaapana.Tests.Browser;
using Kaapana.Tests.Dicom.Imaging;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Kaapana.Tests.Viewer;

/// <summary>
/// OHIF in Chromium against the real server: a stored synthetic CT opens at <c>/viewer/viewer?StudyInstanceUIDs=…</c>, shows
/// a non-blank image, scrolls to other slices; a DICOM SEG over it appears in OHIF's segmentation panel and on the image.
/// Screenshots and the browser log land in the folder each test prints.
/// </summary>
[Collection(ViewerCollection.Name)]
public sealed partial class ViewerBrowserTests(ITestOutputHelper output)
{
    private const int Slices = 16, Size = 128;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task StoredCtOpensShowsAnImageAndScrollsToOtherSlices()
    {
        await using var server = await StartServerAsync();
        var ct = SyntheticCt.Series(Slices, Size);
        string studyUid = ct[0].Dataset.Get<string>(DicomTags.StudyInstanceUID)!;
        await UploadAsync(server, ct);

        await using var browser = await Chromium.LaunchAsync(nameof(StoredCtOpensShowsAnImageAndScrollsToOtherSlices));
        output.WriteLine($"Artifacts: {browser.Artifacts}");
        try
        {
            await BrowserSignIn.AsAdminAsync(browser.Page, server.Server.BaseAddress);
            await browser.Page.GotoAsync(new Uri(server.Server.BaseAddress, $"/viewer/viewer?StudyInstanceUIDs={studyUid}").ToString());
            var first = await WaitForImageAsync(browser, s => s.Std > 10);
            await browser.ScreenshotAsync("1-opened");
            var (index, count) = await SliceIndicatorAsync(browser);
            output.WriteLine($"Opened: slice {index}/{count}, luminance mean {first.Mean:F1}, sd {first.Std:F1}, canvas {first.Width}x{first.Height}");
            Assert.Equal(Slices, count);

            // Mouse wheel over the image: OHIF's stack scroll moves one slice per notch.
            var pane = await browser.Page.QuerySelectorAsync("canvas.cornerstone-canvas");
            var box = (await pane!.BoundingBoxAsync())!;
            await browser.Page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
            for (int i = 0; i < 6; i++)
            {
                await browser.Page.Mouse.WheelAsync(0, 120);
                await Task.Delay(150);
            }
            var scrolled = await WaitForImageAsync(browser, s => s.Std > 10 && Difference(s, first) > 0.005);
            var (index2, _) = await SliceIndicatorAsync(browser);
            await browser.ScreenshotAsync("2-scrolled");
            output.WriteLine($"Scrolled: slice {index2}/{count}, signature difference {Difference(scrolled, first):P2}");
            Assert.NotEqual(index, index2);
        }
        catch
        {
            await browser.ScreenshotAsync("failure");
            output.WriteLine(browser.Log);
            throw;
        }
    }

    [Fact]
    public async Task SegmentationOverTheCtShowsInTheSegmentationPanel()
    {
        await using var server = await StartServerAsync();
        var ct = SyntheticCt.Series(Slices, Size);
        string studyUid = ct[0].Dataset.Get<string>(DicomTags.StudyInstanceUID)!;
        var seg = Segmentation(ct, Slices, Size);
        await UploadAsync(server, [.. ct, seg]);

        await using var browser = await Chromium.LaunchAsync(nameof(SegmentationOverTheCtShowsInTheSegmentationPanel));
        output.WriteLine($"Artifacts: {browser.Artifacts}");
        var page = browser.Page;
        try
        {
            await BrowserSignIn.AsAdminAsync(page, server.Server.BaseAddress);
            await page.GotoAsync(new Uri(server.Server.BaseAddress, $"/viewer/viewer?StudyInstanceUIDs={studyUid}").ToString());
            await WaitForImageAsync(browser, s => s.Std > 10);
            await browser.ScreenshotAsync("1-opened");

            // The SEG is its own display set in the study browser; double-clicking loads it over its CT.
            var segThumbnail = page.Locator("[data-cy='series-modality-label']", new() { HasTextString = "SEG" }).First;
            await segThumbnail.WaitForAsync(new() { Timeout = (float)Patience.TotalMilliseconds });
            await segThumbnail.DblClickAsync();
            await ConfirmIfAskedAsync(page);
            await browser.ScreenshotAsync("2-seg-loaded");

            var panelTab = page.Locator("[data-cy$='-btn'][data-cy*='egmentation']").First;
            if (await panelTab.CountAsync() > 0 && await panelTab.IsVisibleAsync())
            {
                await panelTab.ClickAsync();
            }
            var segment = page.Locator("[data-cy='data-row-title']", new() { HasTextString = "Lesion" }).First;
            await segment.WaitForAsync(new() { Timeout = (float)Patience.TotalMilliseconds });
            var overlay = await WaitForImageAsync(browser, s => s.Red > 50);
            await browser.ScreenshotAsync("3-segmentation-panel");
            output.WriteLine($"Segment row: '{await segment.InnerTextAsync()}', red overlay pixels: {overlay.Red}");
        }
        catch
        {
            await browser.ScreenshotAsync("failure");
            output.WriteLine(browser.Log);
            throw;
        }
    }

    private static async Task<ViewerServer> StartServerAsync()
    {
        var server = await ViewerServer.StartAsync(new Dictionary<string, string> { ["Kaapana__Viewer__InstallRoot"] = ViewerServer.SharedInstallRoot });
        try
        {
            await server.WaitUntilViewerReadyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A binary SEG: one red sphere ("Lesion") in the middle of the series.</summary>
    internal static DicomFile Segmentation(List<DicomFile> ct, int slices, int size)
    {
        var geometry = SourceGeometry.FromInstances(ct.Select(f => f.Dataset));
        var labels = new LabelVolume(slices, size, size);
        double radius = size * 0.25;
        for (int z = 0; z < slices; z++)
        {
            for (int y = 0; y < size; y++)
            {
                for (int x = 0; x < size; x++)
                {
                    double dx = x - size / 2.0, dy = y - size / 2.0, dz = (z - slices / 2.0) * radius / slices * 2;
                    if (dx * dx + dy * dy + dz * dz < radius * radius)
                    {
                        labels[z, y, x] = 1;
                    }
                }
            }
        }
        SegmentDescription[] segments =
        [
            new()
            {
                Number = 1, Label = "Lesion", Category = CodedConcept.MorphologicallyAbnormalStructure, Type = CodedConcept.Tumor,
                AlgorithmType = SegmentAlgorithmType.Manual, RecommendedDisplayCieLab = CieLab.FromRgb(255, 0, 0),
            },
        ];
        return DicomSegmentation.CreateBinary(geometry, labels, segments, new SegmentationOptions { SeriesDescription = "Lesion SEG" });
    }

    internal static async Task UploadAsync(ViewerServer server, IEnumerable<DicomFile> files)
    {
        using var form = new MultipartFormDataContent();
        int i = 0;
        foreach (var file in files)
        {
            var ms = new MemoryStream();
            file.Save(ms);
            var part = new ByteArrayContent(ms.ToArray());
            part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
            form.Add(part, "files", $"{i++}.dcm");
        }
        using var response = await server.Http.PostAsync("/api/uploads", form);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Upload: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>OHIF may ask before loading a SEG over its source series; say yes if it does.</summary>
    internal static async Task ConfirmIfAskedAsync(IPage page)
    {
        var yes = page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^(Yes|Load|OK)$", RegexOptions.IgnoreCase) });
        try
        {
            await yes.First.WaitForAsync(new() { Timeout = 5000 });
            await yes.First.ClickAsync();
        }
        catch (TimeoutException)
        {
            // loaded without asking
        }
    }

    private sealed record CanvasStats(int Width, int Height, double Mean, double Std, int Red, double[] Signature);

    /// <summary>
    /// Reads the viewport canvas back (not a page screenshot, so overlay text does not count): luminance mean and spread,
    /// reddish pixels (segmentation fill), and an 8×8 block signature to compare slices.
    /// </summary>
    private static async Task<CanvasStats?> ReadCanvasAsync(IPage page)
    {
        string? json = await page.EvaluateAsync<string?>("""
            () => {
              const c = document.querySelector('canvas.cornerstone-canvas');
              if (!c || !c.width || !c.height) return null;
              const t = document.createElement('canvas');
              t.width = c.width; t.height = c.height;
              const g = t.getContext('2d');
              g.drawImage(c, 0, 0);
              const d = g.getImageData(0, 0, t.width, t.height).data;
              let n = 0, sum = 0, sum2 = 0, red = 0;
              const sig = new Array(64).fill(0);
              for (let y = 0; y < t.height; y++) for (let x = 0; x < t.width; x++) {
                const i = (y * t.width + x) * 4, l = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
                n++; sum += l; sum2 += l * l;
                if (d[i] > d[i + 1] + 60 && d[i] > d[i + 2] + 60) red++;
                sig[Math.floor(y * 8 / t.height) * 8 + Math.floor(x * 8 / t.width)] += l / (t.width * t.height / 64);
              }
              const mean = sum / n;
              return JSON.stringify({ width: t.width, height: t.height, mean, std: Math.sqrt(Math.max(0, sum2 / n - mean * mean)), red, signature: sig });
            }
            """);
        return json is null ? null : JsonSerializer.Deserialize<CanvasStats>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web));
    }

    private static async Task<CanvasStats> WaitForImageAsync(Chromium browser, Func<CanvasStats, bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        CanvasStats? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await ReadCanvasAsync(browser.Page);
            if (last is not null && condition(last))
            {
                return last;
            }
            await Task.Delay(250);
        }
        await browser.ScreenshotAsync("timeout");
        Assert.Fail($"Viewport never showed the expected image (last: {last}).{Environment.NewLine}{browser.Log}");
        return null!;
    }

    /// <summary>Relative difference of two block signatures (0: same image).</summary>
    private static double Difference(CanvasStats a, CanvasStats b) =>
        a.Signature.Zip(b.Signature, (x, y) => Math.Abs(x - y)).Sum() / Math.Max(1, b.Signature.Sum());

    /// <summary>OHIF's overlay shows "I: n (k/N)" for the displayed slice.</summary>
    private static async Task<(int Index, int Count)> SliceIndicatorAsync(Chromium browser)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            string text = await browser.Page.Locator("[data-cy='viewport-pane']").First.InnerTextAsync();
            if (SliceText().Match(text) is { Success: true } m)
            {
                return (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value));
            }
            await Task.Delay(250);
        }
        Assert.Fail($"No slice indicator in the viewport overlay.{Environment.NewLine}{browser.Log}");
        return default;
    }

    [GeneratedRegex(@"\((\d+)/(\d+)\)")]
    private static partial Regex SliceText();
}
