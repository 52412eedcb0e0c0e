using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kaapana.Dicom;
using Kaapana.Tests.Browser;
using Microsoft.Playwright;
using Kaapana.Tests.Archive.Dicom;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Access;

/// <summary>
/// The DICOM door with real DCMTK peers: who may associate (loopback by default, remote peers only through rules), which
/// services they get, and what C-FIND/C-MOVE/C-GET see through each called AE title (a receiving endpoint: its project only).
/// </summary>
public sealed class DicomDoorTests(DicomDoorFixture fx) : IClassFixture<DicomDoorFixture>
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private async Task<int> AddRuleAsync(string calledAE, string callingAE, string? peer, bool store = false, bool find = false, bool move = false, bool get = false)
    {
        using var client = fx.Server.CreateClient();
        var r = await client.PostAsJsonAsync("/api/dicom-access", new
        {
            calledAE, callingAE, peerAddress = peer, allowStore = store, allowFind = find, allowMove = move, allowGet = get, description = "test",
        });
        Assert.True(r.StatusCode == HttpStatusCode.Created, $"POST /api/dicom-access: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    private async Task DeleteRuleAsync(int id)
    {
        using var client = fx.Server.CreateClient();
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/dicom-access/{id}")).StatusCode);
    }

    private async Task<int> IndexedAsync(string sopInstanceUid)
    {
        await using var db = fx.Server.OpenIndex();
        return await db.Instances.CountAsync(i => i.SOPInstanceUID == sopInstanceUid);
    }

    /// <summary>findscu over loopback (study root) as <paramref name="callingAE"/> to <paramref name="calledAE"/>: the response identifiers.</summary>
    private async Task<List<DicomDataset>> FindAsync(string callingAE, string calledAE, params string[] keys)
    {
        var dir = Directory.CreateTempSubdirectory("door-find-").FullName;
        try
        {
            var args = new List<string> { "-v", "-S", "-aet", callingAE, "-aec", calledAE, "-X", "-od", dir };
            foreach (var k in keys) args.AddRange(["-k", k]);
            args.AddRange(["127.0.0.1", fx.Port]);
            var r = await DicomTools.RunAsync("findscu", [.. args]);
            Assert.True(r.ExitCode == 0 && !r.Output.Contains("E: "), $"findscu {string.Join(' ', args)}: {r}");
            return Directory.GetFiles(dir, "rsp*.dcm").Order().Select(f => DicomFile.Open(f).Dataset).ToList();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>getscu (or movescu to LOCALMOVE, which it receives itself) over loopback for one study: the SOP instance UIDs that arrived.</summary>
    private async Task<List<string>> RetrieveAsync(string tool, string callingAE, string calledAE, string studyUid)
    {
        var dir = Directory.CreateTempSubdirectory("door-get-").FullName;
        try
        {
            var args = new List<string> { "-v", "-S", "-aet", callingAE, "-aec", calledAE, "-od", dir };
            if (tool == "movescu") args.AddRange(["-aem", "LOCALMOVE", "--port", fx.MovePort.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            args.AddRange(["-k", "QueryRetrieveLevel=STUDY", "-k", $"StudyInstanceUID={studyUid}", "127.0.0.1", fx.Port]);
            var r = await DicomTools.RunAsync(tool, [.. args]);
            Assert.True(r.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {r}");
            return Directory.GetFiles(dir).Select(f => DicomFile.Open(f).Dataset.GetString(DicomTags.SOPInstanceUID)).Order().ToList();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static List<string> Sops(IEnumerable<string> files) =>
        files.Select(f => DicomDoorFixture.Uid(f, DicomTags.SOPInstanceUID)).Order().ToList();

    // ------------------------------------------------------------------ who may associate

    [Fact]
    public async Task Unknown_calling_AE_from_a_remote_address_is_rejected_at_association_time_and_audited()
    {
        var file = DicomReceiverTests.Generate(Path.Combine(fx.Root, "intruder"), 1, 1, 1, 1, namePrefix: "Intruder^")[0];
        var sop = DicomDoorFixture.Uid(file, DicomTags.SOPInstanceUID);

        var store = await fx.RemoteAsync("storescu", "-v", "-aet", "INTRUDER", "-aec", "KAAPANA", fx.Host, fx.Port, file);
        Assert.True(store.ExitCode != 0, $"storescu from {fx.PeerAddress} should fail: {store.Output}");
        Assert.Contains("Association Rejected", store.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Calling AE Title Not Recognized", store.Output, StringComparison.OrdinalIgnoreCase);
        var find = await fx.RemoteAsync("findscu", "-v", "-S", "-aet", "INTRUDER", "-aec", "LUNG_AE", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID",
            fx.Host, fx.Port);
        Assert.True(find.ExitCode != 0, $"findscu from {fx.PeerAddress} should fail: {find.Output}");
        Assert.Contains("Association Rejected", find.Output, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(0, await IndexedAsync(sop));
        Assert.Empty(Directory.EnumerateFiles(fx.DataDir, "*" + sop + "*", SearchOption.AllDirectories));
        await fx.Server.WaitForOutputAsync("DICOM association rejected", TimeSpan.FromSeconds(10));
        Assert.Contains(fx.Server.Output.Split('\n'), l => l.Contains("DICOM association rejected", StringComparison.Ordinal)
            && l.Contains("INTRUDER", StringComparison.Ordinal) && l.Contains(fx.PeerAddress, StringComparison.Ordinal));

        var entries = await fx.AuditAsync("actor=INTRUDER&action=dicom.association.rejected", e => e.Count >= 2);
        Assert.All(entries, e =>
        {
            Assert.Equal("denied", e.GetProperty("outcome").GetString());
            Assert.Equal(fx.PeerAddress, e.GetProperty("sourceAddress").GetString());
        });
        Assert.Equal(["KAAPANA", "LUNG_AE"], entries.Select(e => e.GetProperty("target").GetString()!).Order());
    }

    [Fact]
    public async Task A_store_only_rule_lets_the_peer_store_but_not_find_and_deleting_it_closes_the_door_again()
    {
        var files = DicomReceiverTests.Generate(Path.Combine(fx.Root, "modality"), 1, 1, 1, 2, namePrefix: "Modality^");
        var study = DicomDoorFixture.Uid(files[0], DicomTags.StudyInstanceUID);
        int rule = await AddRuleAsync("*", "MODALITY", fx.PeerAddress + "/32", store: true);

        var store = await fx.RemoteAsync("storescu", "-v", "-aet", "MODALITY", "-aec", "KAAPANA", fx.Host, fx.Port, files[0]);
        Assert.True(store.ExitCode == 0 && DicomReceiverTests.CountSuccess(store.Output) == 1, $"storescu: {store.Output}\n{fx.Server.Output}");
        Assert.Equal(1, await IndexedAsync(DicomDoorFixture.Uid(files[0], DicomTags.SOPInstanceUID)));

        // Same peer, same AE title: the FIND contexts are not accepted, so findscu has nothing to send on.
        var find = await fx.RemoteAsync("findscu", "-v", "-S", "-aet", "MODALITY", "-aec", "KAAPANA", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID",
            fx.Host, fx.Port);
        Assert.True(find.ExitCode != 0, $"findscu should be refused: {find.Output}");
        Assert.Contains("No Acceptable Presentation Contexts", find.Output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(study, find.Output);

        var stored = await fx.AuditAsync("actor=MODALITY&action=dicom.store", e => e.Count >= 1);
        Assert.Contains(stored, e => e.GetProperty("target").GetString() == study && e.GetProperty("sourceAddress").GetString() == fx.PeerAddress);

        await DeleteRuleAsync(rule);
        var again = await fx.RemoteAsync("storescu", "-v", "-aet", "MODALITY", "-aec", "KAAPANA", fx.Host, fx.Port, files[1]);
        Assert.True(again.ExitCode != 0 && again.Output.Contains("Association Rejected", StringComparison.OrdinalIgnoreCase), $"storescu after delete: {again.Output}");
        Assert.Equal(0, await IndexedAsync(DicomDoorFixture.Uid(files[1], DicomTags.SOPInstanceUID)));
    }

    [Fact]
    public async Task A_rule_for_one_endpoint_and_another_address_grants_nothing_elsewhere()
    {
        // FIND on LUNG_AE for RESEARCHER from the namespace; a second rule for the same title from another network.
        int lung = await AddRuleAsync("LUNG_AE", "RESEARCHER", fx.PeerAddress, find: true);
        int other = await AddRuleAsync("*", "RESEARCHER", "192.0.2.0/24", store: true, find: true, move: true, get: true);
        try
        {
            var dir = Directory.CreateTempSubdirectory("door-rfind-").FullName;
            var ok = await fx.RemoteAsync("findscu", "-v", "-S", "-aet", "RESEARCHER", "-aec", "LUNG_AE", "-X", "-od", dir,
                "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID", fx.Host, fx.Port);
            Assert.True(ok.ExitCode == 0, $"findscu to LUNG_AE: {ok.Output}");
            var studies = Directory.GetFiles(dir, "rsp*.dcm").Select(f => DicomDoorFixture.Uid(f, DicomTags.StudyInstanceUID)).ToList();
            Directory.Delete(dir, recursive: true);
            Assert.Equal([fx.LungStudy], studies);

            var brain = await fx.RemoteAsync("findscu", "-v", "-S", "-aet", "RESEARCHER", "-aec", "BRAIN_AE", "-k", "QueryRetrieveLevel=STUDY",
                "-k", "StudyInstanceUID", fx.Host, fx.Port);
            Assert.True(brain.ExitCode != 0 && brain.Output.Contains("Association Rejected", StringComparison.OrdinalIgnoreCase), $"findscu to BRAIN_AE: {brain.Output}");
            Assert.DoesNotContain(fx.BrainStudy, brain.Output);
        }
        finally
        {
            await DeleteRuleAsync(lung);
            await DeleteRuleAsync(other);
        }
    }

    [Fact]
    public async Task Invalid_rules_answer_400_with_the_reason()
    {
        using var client = fx.Server.CreateClient();
        foreach (var (body, reason) in new (object, string)[]
        {
            (new { calledAE = "*", callingAE = "", allowStore = true }, "Calling AE title is required"),
            (new { calledAE = "*", callingAE = "X", peerAddress = "10.0.0.300", allowStore = true }, "neither an IP address nor a CIDR"),
            (new { calledAE = "*", callingAE = "X" }, "at least one"),
            (new { calledAE = "THIS_TITLE_IS_TOO_LONG", callingAE = "X", allowFind = true }, "longer than 16"),
        })
        {
            var r = await client.PostAsJsonAsync("/api/dicom-access", body);
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{JsonSerializer.Serialize(body)}: {(int)r.StatusCode} {text}");
            Assert.Contains(reason, text);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/dicom-access/999999")).StatusCode);
    }

    [Fact]
    public async Task Rules_and_the_audit_trail_are_shut_to_anonymous_callers_and_rule_changes_are_audited_with_the_user()
    {
        using var anonymous = TestCredentials.Anonymous(fx.Server.BaseAddress);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/dicom-access")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/dicom-access", new { calledAE = "*", callingAE = "X", allowStore = true })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/audit")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/audit/export.csv")).StatusCode);

        int id = await AddRuleAsync("LUNG_AE", "AUDITED", null, get: true);
        await DeleteRuleAsync(id);
        var added = await fx.AuditAsync($"actor={TestCredentials.AdminUser}&action=dicom-access.rule.added&target=" + Uri.EscapeDataString($"rule {id}:"), e => e.Count == 1);
        Assert.Contains("AUDITED", added[0].GetProperty("target").GetString());
        await fx.AuditAsync($"actor={TestCredentials.AdminUser}&action=dicom-access.rule.deleted&target=" + Uri.EscapeDataString($"rule {id}:"), e => e.Count == 1);
    }

    // ------------------------------------------------------------------ what each called AE title sees

    [Fact]
    public async Task Find_through_an_endpoint_sees_only_its_project_and_the_default_AE_sees_both()
    {
        var lung = await FindAsync("FINDSCU", "LUNG_AE", "QueryRetrieveLevel=STUDY", "StudyInstanceUID", "NumberOfStudyRelatedInstances");
        Assert.Equal([fx.LungStudy], lung.Select(d => d.GetString(DicomTags.StudyInstanceUID)));
        // A scoped answer counts only the endpoint's project's series (here the whole study is in it).
        Assert.All(lung, d => Assert.Equal(fx.LungFiles.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            d.GetString(DicomTags.NumberOfStudyRelatedInstances).Trim()));
        var brain = await FindAsync("FINDSCU", "BRAIN_AE", "QueryRetrieveLevel=STUDY", "StudyInstanceUID");
        Assert.Equal([fx.BrainStudy], brain.Select(d => d.GetString(DicomTags.StudyInstanceUID)));
        var all = await FindAsync("FINDSCU", "KAAPANA", "QueryRetrieveLevel=STUDY", "StudyInstanceUID", "NumberOfStudyRelatedInstances");
        Assert.Contains(fx.LungStudy, all.Select(d => d.GetString(DicomTags.StudyInstanceUID)));
        Assert.Contains(fx.BrainStudy, all.Select(d => d.GetString(DicomTags.StudyInstanceUID)));
        Assert.Equal("4", all.Single(d => d.GetString(DicomTags.StudyInstanceUID) == fx.BrainStudy).GetString(DicomTags.NumberOfStudyRelatedInstances).Trim());
    }

    [Fact]
    public async Task Asking_an_endpoint_for_another_projects_uids_returns_nothing_at_any_level()
    {
        var brainSeries = DicomDoorFixture.Uid(fx.BrainFiles[0], DicomTags.SeriesInstanceUID);
        var brainSop = DicomDoorFixture.Uid(fx.BrainFiles[0], DicomTags.SOPInstanceUID);
        Assert.Empty(await FindAsync("FINDSCU", "LUNG_AE", "QueryRetrieveLevel=STUDY", $"StudyInstanceUID={fx.BrainStudy}", "NumberOfStudyRelatedInstances"));
        Assert.Empty(await FindAsync("FINDSCU", "LUNG_AE", "QueryRetrieveLevel=SERIES", $"StudyInstanceUID={fx.BrainStudy}", "SeriesInstanceUID"));
        Assert.Empty(await FindAsync("FINDSCU", "LUNG_AE", "QueryRetrieveLevel=IMAGE", $"StudyInstanceUID={fx.BrainStudy}", $"SeriesInstanceUID={brainSeries}",
            $"SOPInstanceUID={brainSop}"));
        Assert.Empty(await FindAsync("FINDSCU", "LUNG_AE", "QueryRetrieveLevel=STUDY", $"PatientID={fx.BrainPatient}", "StudyInstanceUID"));
        // The same questions through the default AE title do find it (the data is there).
        Assert.Single(await FindAsync("FINDSCU", "KAAPANA", "QueryRetrieveLevel=STUDY", $"StudyInstanceUID={fx.BrainStudy}"));
    }

    [Theory]
    [InlineData("getscu")]
    [InlineData("movescu")]
    public async Task Retrieve_through_an_endpoint_delivers_its_own_study_and_nothing_of_another_project(string tool)
    {
        Assert.Equal(Sops(fx.LungFiles), await RetrieveAsync(tool, "RETRIEVER", "LUNG_AE", fx.LungStudy));
        Assert.Empty(await RetrieveAsync(tool, "RETRIEVER", "LUNG_AE", fx.BrainStudy));
        Assert.Equal(Sops(fx.BrainFiles), await RetrieveAsync(tool, "RETRIEVER", "KAAPANA", fx.BrainStudy));
    }

    // ------------------------------------------------------------------ audit trail

    [Fact]
    public async Task Stored_queried_and_retrieved_associations_are_audited_and_the_api_filters_pages_and_exports()
    {
        await FindAsync("AUDITQ", "LUNG_AE", "QueryRetrieveLevel=STUDY", $"StudyInstanceUID={fx.LungStudy}");
        await RetrieveAsync("getscu", "AUDITQ", "LUNG_AE", fx.LungStudy);
        await RetrieveAsync("movescu", "AUDITQ", "KAAPANA", fx.BrainStudy);

        var find = await fx.AuditAsync("actor=AUDITQ&action=dicom.find", e => e.Count >= 1);
        var details = JsonDocument.Parse(find[0].GetProperty("details").GetString()!).RootElement;
        var query = details.GetProperty("queries")[0];
        Assert.Equal("STUDY", query.GetProperty("level").GetString());
        Assert.Equal(fx.LungStudy, query.GetProperty("keys").GetProperty("StudyInstanceUID").GetString());
        Assert.Equal(1, query.GetProperty("matches").GetInt32());
        Assert.Equal("127.0.0.1", find[0].GetProperty("sourceAddress").GetString());

        var get = await fx.AuditAsync("actor=AUDITQ&action=dicom.get", e => e.Count >= 1);
        Assert.Equal(fx.LungStudy, get[0].GetProperty("target").GetString());
        var move = await fx.AuditAsync($"actor=AUDITQ&action=dicom.move&target={fx.BrainStudy}", e => e.Count >= 1);
        Assert.Contains("LOCALMOVE", move[0].GetProperty("details").GetString());
        var accepted = await fx.AuditAsync("actor=AUDITQ&action=dicom.association.accepted", e => e.Count >= 3);
        Assert.All(accepted, e => Assert.Equal("success", e.GetProperty("outcome").GetString()));

        using var client = fx.Server.CreateClient();
        var page = await client.GetFromJsonAsync<JsonElement>("/api/audit?actor=AUDITQ&limit=2&offset=1");
        Assert.True(page.GetProperty("total").GetInt32() >= 6, page.ToString());
        Assert.Equal(2, page.GetProperty("items").GetArrayLength());
        var future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("o"));
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>($"/api/audit?actor=AUDITQ&from={future}")).GetProperty("total").GetInt32());
        var past = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("o"));
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>($"/api/audit?actor=AUDITQ&to={past}")).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/audit?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/audit?from=yesterday")).StatusCode);

        var csv = await client.GetAsync("/api/audit/export.csv?actor=AUDITQ");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("id,at,actor,action,target,outcome,source_address,details", lines[0]);
        Assert.Equal(page.GetProperty("total").GetInt32(), lines.Length - 1);
        Assert.Contains(lines, l => l.Contains(",AUDITQ,dicom.get," + fx.LungStudy + ",success,127.0.0.1,", StringComparison.Ordinal));
    }

    // ------------------------------------------------------------------ admin pages

    [Fact]
    public async Task Admin_pages_add_and_delete_a_rule_and_show_it_in_the_audit_trail()
    {
        Assert.True(File.Exists(Chromium.ExecutablePath), $"{Chromium.ExecutablePath} not found: install the Debian package chromium.");
        await using var browser = await Chromium.LaunchAsync("dicom-access", "access", new ViewportSize { Width = 1280, Height = 800 });
        var page = browser.Page;
        var baseUrl = fx.Server.BaseAddress.ToString().TrimEnd('/');
        try
        {
            await BrowserSignIn.AsAdminAsync(page, fx.Server.BaseAddress);
            await page.GotoAsync(baseUrl + "/admin/dicom-access");
            await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
            await page.GetByLabel("Calling AE title (peer, or *)").FillAsync("BROWSER_AE");
            await page.GetByLabel("Peer address or CIDR (optional)").FillAsync("not-an-address");
            await page.GetByRole(AriaRole.Checkbox, new() { Name = "Find" }).CheckAsync(new() { Force = true });
            await page.Locator("[data-testid=rule-save]").ClickAsync();
            // Bad input: a readable message, nothing saved.
            var error = page.Locator("[data-testid=dicom-access-error]");
            try
            {
                await Assertions.Expect(error).ToContainTextAsync("neither an IP address nor a CIDR");
            }
            catch (PlaywrightException)
            {
                // Seen once in a clean-clone run: the save click was lost, as the admin nodes test saw once (a click racing the
                // re-render the field's change caused). A user clicks again; the test does so once, when nothing was saved.
                Assert.Equal(0, await page.Locator("[data-testid=rule-row]", new() { HasText = "BROWSER_AE" }).CountAsync());
                await page.Locator("[data-testid=rule-save]").ClickAsync();
                await Assertions.Expect(error).ToContainTextAsync("neither an IP address nor a CIDR");
            }
            await page.GetByLabel("Peer address or CIDR (optional)").FillAsync("10.9.8.0/24");
            await page.Locator("[data-testid=rule-save]").ClickAsync();
            var row = page.Locator("[data-testid=rule-row]", new() { HasText = "BROWSER_AE" });
            await Assertions.Expect(row).ToHaveCountAsync(1);
            await Assertions.Expect(row).ToContainTextAsync("10.9.8.0/24");
            await page.ScreenshotAsync(new() { Path = Path.Combine(browser.Artifacts, "1-rule-added.png") });

            using (var client = fx.Server.CreateClient())
            {
                var rules = await client.GetFromJsonAsync<JsonElement>("/api/dicom-access");
                var rule = rules.EnumerateArray().Single(r => r.GetProperty("callingAE").GetString() == "BROWSER_AE");
                Assert.True(rule.GetProperty("allowFind").GetBoolean() && !rule.GetProperty("allowStore").GetBoolean(), rule.ToString());
            }

            var unlabelled = await page.EvaluateAsync<string[]>("""
                () => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')].filter(e =>
                    !(e.getAttribute('aria-label') || e.labels?.length || e.getAttribute('aria-labelledby') || (e.tagName === 'BUTTON' && e.textContent.trim()))
                    && e.offsetParent !== null).map(e => e.outerHTML.substring(0, 200))
                """);
            Assert.True(unlabelled.Length == 0, $"Visible controls without a label on /admin/dicom-access:{Environment.NewLine}{string.Join(Environment.NewLine, unlabelled)}");

            await row.Locator("[data-testid=rule-delete]").ClickAsync();
            await Assertions.Expect(row).ToHaveCountAsync(0);

            await page.GotoAsync(baseUrl + "/admin/audit");
            await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30000 });
            var target = page.GetByLabel("Target contains (e.g. a study UID)");
            var export = page.Locator("[data-testid=audit-export]");
            await target.FillAsync("BROWSER_AE");
            var table = page.Locator("[data-testid=audit-table]");
            // The trail is written in batches: search again until both changes are there and the filter applies. Seen once
            // in a clean-clone run: the search ran before the typed filter reached the circuit (the export link, built from
            // the bound filter, still had no target); as a user would, the test types it again then.
            for (int i = 0; i < 60; i++)
            {
                if (!((await export.GetAttributeAsync("href")) ?? "").Contains("target=BROWSER_AE", StringComparison.Ordinal))
                    await target.FillAsync("BROWSER_AE");
                await page.Locator("[data-testid=audit-search]").ClickAsync();
                await Task.Delay(500);
                var text = await table.InnerTextAsync();
                if (text.Contains("dicom-access.rule.deleted", StringComparison.Ordinal) && !text.Contains("dicom.association.accepted", StringComparison.Ordinal)) break;
            }
            await Assertions.Expect(table).ToContainTextAsync("dicom-access.rule.added");
            await Assertions.Expect(table).ToContainTextAsync("dicom-access.rule.deleted");
            await Assertions.Expect(table).ToContainTextAsync(TestCredentials.AdminUser);
            await Assertions.Expect(table).Not.ToContainTextAsync("dicom.association.accepted"); // the filter applies
            Assert.Contains("target=BROWSER_AE", await export.GetAttributeAsync("href"));
            await page.ScreenshotAsync(new() { Path = Path.Combine(browser.Artifacts, "2-audit.png") });
        }
        catch
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(browser.Artifacts, "failure.png") });
            File.WriteAllText(Path.Combine(browser.Artifacts, "browser.log"), browser.Log);
            throw;
        }
    }
}
