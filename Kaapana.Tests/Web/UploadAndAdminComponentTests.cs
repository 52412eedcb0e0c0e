using Bunit;
using Kaapana.Core.Archive.Dicom;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Projects;
using Kaapana.Tests.Archive;
using Kaapana.Web.Pages;
using Kaapana.Web.Pages.Admin;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Kaapana.Tests.Web;

/// <summary>bUnit and model tests of the upload page's progress/result list and the admin forms' validation.</summary>
public sealed class UploadAndAdminComponentTests
{
    private const string ZipAnswer = """
        {"accepted":1,"rejected":1,"files":[
          {"name":"study.zip/a.dcm","status":"stored","sopInstanceUid":"1.2.3","reason":null},
          {"name":"study.zip/readme.txt","status":"rejected","sopInstanceUid":null,"reason":"not a DICOM file: no DICM prefix"}]}
        """;

    private static BunitContext NewContext(Action<IServiceCollection>? services = null)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        services?.Invoke(ctx.Services);
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    [Fact]
    public void Upload_progress_sums_bytes_and_parses_per_file_results_from_every_kind_of_answer()
    {
        var p = new UploadProgress();
        p.Queue(1, "study.zip", 1000);
        p.Queue(2, "loose.dcm", 3000);
        p.Queue(3, "other.dcm", 0);
        Assert.True(p.Busy);
        Assert.Equal(0, p.OverallPercent);

        p.Report(1, 500);
        p.Report(2, 1500);
        Assert.Equal(UploadState.Uploading, p.Items[0].State);
        Assert.Equal(50, p.Items[0].Percent);
        Assert.Equal(50, p.OverallPercent);
        p.Report(99, 10); // unknown ids are ignored

        p.Complete(1, 207, ZipAnswer);
        Assert.Equal(UploadState.Done, p.Items[0].State);
        Assert.Equal([("study.zip/a.dcm", true), ("study.zip/readme.txt", false)], p.Items[0].Results.Select(r => (r.Name, r.Accepted)));
        Assert.Equal("not a DICOM file: no DICM prefix", p.Items[0].Results[1].Reason);
        p.Report(1, 10); // a late progress report does not reopen a finished file
        Assert.Equal(UploadState.Done, p.Items[0].State);

        p.Complete(2, 400, """{"title":"Bad Request","status":400,"detail":"part 1 ('loose.dcm') is incomplete and was not stored: the body ended"}""");
        Assert.Equal(UploadState.Failed, p.Items[1].State);
        Assert.Contains("incomplete", p.Items[1].Error);
        p.Complete(3, 0, "The connection to the server failed.");
        Assert.Equal("The connection to the server failed.", p.Items[2].Error);

        Assert.False(p.Busy);
        Assert.Equal(100, p.OverallPercent);
        Assert.Equal(1, p.AcceptedCount);
        Assert.Equal(3, p.RejectedCount); // the zip's text file plus two failed requests
        p.Clear();
        Assert.Empty(p.Items);
    }

    [Fact]
    public void Upload_progress_reads_a_401_without_json_as_a_readable_message()
    {
        var p = new UploadProgress();
        p.Queue(1, "a.dcm", 10);
        p.Complete(1, 401, "<html>no</html>");
        Assert.Equal("Not signed in or not allowed to upload.", p.Items[0].Error);
    }

    [Fact]
    public async Task Upload_results_show_progress_then_accepted_and_rejected_lines_with_the_reason()
    {
        await using var ctx = NewContext();
        var progress = new UploadProgress();
        progress.Queue(1, "study.zip", 1000);
        progress.Report(1, 250);
        var cut = ctx.Render<UploadResults>(p => p.Add(x => x.Progress, progress));
        Assert.Contains("25%", cut.Find("[data-testid=upload-item]").TextContent);
        Assert.NotEmpty(cut.FindAll("[aria-label='Upload progress of study.zip']"));

        progress.Complete(1, 207, ZipAnswer);
        cut.Render();
        var rows = cut.FindAll("[data-testid=upload-result]");
        Assert.Equal(["stored", "rejected"], rows.Select(r => r.GetAttribute("data-status")));
        Assert.Contains("accepted", rows[0].TextContent);
        Assert.Contains("not a DICOM file: no DICM prefix", rows[1].QuerySelector("[data-testid=upload-reason]")!.TextContent);
        Assert.Contains("1 of 2 accepted", cut.Find("[data-testid=upload-item]").TextContent);
        Assert.Equal("1 accepted", cut.Find("[data-testid=upload-accepted]").TextContent);
        Assert.Empty(cut.FindAll("[aria-label='Upload progress of study.zip']"));
    }

    [Fact]
    public void Admin_forms_validate_ae_titles_hosts_ports_and_names()
    {
        var ep = new EndpointsForm { AETitle = "LUNG", Project = "lung" };
        Assert.Null(ep.Validate(["KAAPANA"], isNew: true));
        Assert.Contains("already", ep.Validate(["LUNG"], isNew: true));
        Assert.Null(ep.Validate(["LUNG"], isNew: false));
        Assert.Contains("longer than 16", new EndpointsForm { AETitle = "SEVENTEEN_CHARS_X", Project = "p" }.Validate([], true));
        Assert.Contains("backslash", new EndpointsForm { AETitle = "A\\B", Project = "p" }.Validate([], true));
        Assert.Contains("project", new EndpointsForm { AETitle = "OK" }.Validate([], true));

        var configured = new RemoteNodeEntry(null, "PACS", "h", 104, null);
        Assert.Null(new NodesForm { AETitle = "WS", Host = "ws", Port = 104 }.Validate([configured]));
        Assert.Contains("from configuration", new NodesForm { AETitle = "PACS", Host = "h", Port = 104 }.Validate([configured]));
        Assert.Contains("exists already", new NodesForm { AETitle = "WS", Host = "h", Port = 104 }.Validate([new RemoteNodeEntry(3, "WS", "x", 1, null)]));
        Assert.Contains("outside", new NodesForm { AETitle = "WS", Host = "h", Port = 0 }.Validate([]));

        Assert.Null(new ProjectsForm { Name = "lung" }.Validate(["default"]));
        Assert.Contains("exists already", new ProjectsForm { Name = " default " }.Validate(["default"]));
        Assert.Contains("needs a name", new ProjectsForm { Name = " " }.Validate([]));
    }

    [Fact]
    public async Task Endpoints_page_shows_the_validation_message_and_saves_nothing_for_a_bad_ae_title()
    {
        await using var host = await ArchiveTestHost.StartAsync();
        await using var ctx = NewContext(s => s.AddSingleton(host.Projects).AddSingleton(host.Services.GetRequiredService<IArchiveQueries>()).AddCaller(host.Services));
        var cut = ctx.Render<Kaapana.Web.Pages.Admin.Endpoints>();
        cut.WaitForAssertion(() => Assert.Contains("KAAPANA", cut.Find("[data-testid=endpoints]").TextContent));

        await cut.InvokeAsync(() => cut.Find("#endpoint-ae").Change("BAD\\AE"));
        await cut.InvokeAsync(() => cut.FindAll("button").Single(b => b.TextContent.Trim() == "Add endpoint").Click());
        cut.WaitForAssertion(() => Assert.Contains("backslash", cut.Find("[data-testid=form-error]").TextContent));

        await cut.InvokeAsync(() => cut.Find("#endpoint-ae").Change("GOOD_AE"));
        await cut.InvokeAsync(() => cut.FindAll("button").Single(b => b.TextContent.Trim() == "Add endpoint").Click());
        cut.WaitForAssertion(() => Assert.Contains("Choose the project", cut.Find("[data-testid=form-error]").TextContent));
        Assert.Equal(["KAAPANA"], (await host.Projects.ListReceivingEndpointsAsync()).Select(e => e.AETitle));
    }
}
