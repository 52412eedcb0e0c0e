using Kaapana.Server.Apis;
using Kaapana.Server.Auth;
using Kaapana.Server.DicomWeb;
using Kaapana.Server.Extensions;
using Kaapana.Server.Infrastructure;
using Kaapana.Server.Viewer;

// Content root is the build output, so appsettings.json is found wherever the server is
// started from; the working directory only anchors a relative Kaapana:DataDir.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

builder.AddKaapanaDefaults();
builder.AddKaapanaLifetime();
builder.AddKaapanaLogging();
builder.AddKaapanaIndex();
builder.AddKaapanaAuth();
builder.AddKaapanaAuthHardening();
builder.AddKaapanaArchive();
builder.AddKaapanaAudit();
builder.AddKaapanaDicomReceiver();
builder.AddKaapanaJobs();
builder.AddKaapanaWorkflows();
builder.AddKaapanaApis();
builder.AddKaapanaDicomWeb();
builder.AddKaapanaViewer();
builder.AddKaapanaUi();

var app = builder.Build();

app.UseKaapanaReverseProxy();
app.UseKaapanaSecurityHeaders();
app.UseKaapanaRequestLogging();
app.UseKaapanaSignInRateLimit();
app.UseKaapanaAuth();

app.MapKaapanaApis();
app.MapKaapanaDicomWeb();
app.MapKaapanaViewer();
app.MapKaapanaJobsDashboard();
app.MapKaapanaUi();
app.MapKaapanaSignOut();
app.MapKaapanaWorkflows();

app.Run();

// Visible to Kaapana.Tests.
public partial class Program;
