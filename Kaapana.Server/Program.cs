using Kaapana.Server.Apis;
using Kaapana.Server.Extensions;

// Content root is the build output, so appsettings.json is found wherever the server is
// started from; the working directory only anchors a relative Kaapana:DataDir.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

builder.AddKaapanaDefaults();
builder.AddKaapanaLogging();
builder.AddKaapanaIndex();
builder.AddKaapanaArchive();
builder.AddKaapanaDicomReceiver();
builder.AddKaapanaJobs();
builder.AddKaapanaApis();

var app = builder.Build();

app.UseKaapanaRequestLogging();

app.MapKaapanaApis();
app.MapKaapanaJobsDashboard();

app.Run();

// Visible to Kaapana.Tests.
public partial class Program;
