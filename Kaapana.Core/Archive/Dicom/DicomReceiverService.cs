using Kaapana.Core.Archive.Index;
using Kaapana.Dicom.Network;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Dicom;

/// <summary>
/// Runs the server's <see cref="DicomServer"/> (C-ECHO, C-STORE into the archive, C-FIND/C-MOVE/C-GET from the index) for
/// the life of the host. Called AE titles: the server's own plus every receiving endpoint's, refreshed from the index
/// periodically (so endpoints added at run time are answered within <see cref="DicomReceiverOptions.EndpointRefreshInterval"/>).
/// Start it after the archive's initializer (which seeds the configured endpoints) and stop it before the index writer.
/// </summary>
public sealed class DicomReceiverService(
    IServiceProvider services,
    IOptions<DicomReceiverOptions> receiverOptions,
    IOptions<KaapanaOptions> kaapanaOptions,
    IDbContextFactory<KaapanaDbContext> dbFactory,
    ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private readonly DicomReceiverOptions _options = receiverOptions.Value;
    private readonly ILogger _logger = loggerFactory.CreateLogger<DicomReceiverService>();
    private readonly CancellationTokenSource _stopping = new();
    private DicomServer? _server;
    private Task? _refresh;

    /// <summary>The running server (null before start or when disabled).</summary>
    public DicomServer? Server => _server;

    /// <summary>The server's own AE title.</summary>
    public string AETitle => string.IsNullOrWhiteSpace(_options.AETitle) ? kaapanaOptions.Value.Archive.DefaultAETitle : _options.AETitle.Trim();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            _logger.LogInformation("DICOM receiver disabled (Kaapana:Dicom:Enabled=false)");
            return;
        }
        var serverOptions = new DicomServerOptions
        {
            BindAddress = _options.BindAddress,
            Port = _options.Port,
            MaxAssociations = _options.MaxAssociations,
            AllowedCallingAETitles = _options.AllowedCallingAETitles,
            AETitles = _options.AcceptAnyCalledAE ? [] : await LoadCalledAETitlesAsync(cancellationToken),
        };
        _server = new DicomServer(serverOptions, services, loggerFactory);
        await _server.StartAsync(cancellationToken);
        if (!_options.AcceptAnyCalledAE && _options.EndpointRefreshInterval > TimeSpan.Zero) _refresh = RefreshLoopAsync();
    }

    /// <summary>Re-reads the receiving endpoints from the index and answers their AE titles from now on.</summary>
    public async Task RefreshCalledAETitlesAsync(CancellationToken ct = default)
    {
        if (_server is null || _options.AcceptAnyCalledAE) return;
        // DicomServer reads its options at each negotiation: replacing the array is seen by the next association.
        _server.Options.AETitles = await LoadCalledAETitlesAsync(ct);
    }

    private async Task<string[]> LoadCalledAETitlesAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var titles = await db.ReceivingEndpoints.AsNoTracking().Select(e => e.AETitle).ToListAsync(ct);
        return titles.Prepend(AETitle).Select(t => t.Trim()).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
    }

    private async Task RefreshLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.EndpointRefreshInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    await RefreshCalledAETitlesAsync(_stopping.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogWarning(ex, "Refreshing the called AE titles from the index failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_refresh is not null) await _refresh;
        if (_server is not null) await _server.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _stopping.Dispose();
    }
}
