using Kaapana.Tests.Archive.Dicom;

namespace Kaapana.Tests.DicomWeb;

/// <summary>
/// One real server (child process) on its own temp folder, shared by a class or collection of DICOMweb tests: started,
/// seeded by the subclass (<see cref="SeedAsync"/>), stopped and removed. The QIDO, WADO and STOW fixtures differ only in
/// their configuration and seed.
/// </summary>
public abstract class DicomWebServerFixture(string name) : IAsyncLifetime
{
    private KaapanaServer? _server;

    /// <summary>The fixture's temp folder: the server's data in <c>data/</c>, anything else the seed or tests need beside it.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory($"kaapana-{name}-").FullName;

    public KaapanaServer Server => _server ?? throw new InvalidOperationException("Not started.");
    public HttpClient Http { get; private set; } = null!;

    /// <summary>Server configuration as environment variables (see <see cref="KaapanaServer.StartAsync"/>).</summary>
    protected virtual IDictionary<string, string>? Settings => null;

    protected virtual TimeSpan HttpTimeout => TimeSpan.FromSeconds(60);

    protected virtual Task SeedAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _server = await KaapanaServer.StartAsync(Directory.CreateDirectory(Path.Combine(Root, "data")).FullName, Settings);
        Http = Server.CreateClient(HttpTimeout);
        await SeedAsync();
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
