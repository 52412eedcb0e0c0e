using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Workflows.Triggers;

/// <summary>
/// At start-up, fires enabled rules for series that completed without a firing (while the server was down, or between a
/// series' completion and its firing when the server stopped). Runs in the background: live firings may overlap, and the
/// once-per-(rule, series) claim keeps them from doubling.
/// </summary>
public sealed class TriggerCatchUp(TriggerFirer firer, ILogger<TriggerCatchUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var fired = await firer.CatchUpAsync(stoppingToken);
            if (fired > 0) logger.LogInformation("Trigger catch-up: {Count} firings for series completed without one", fired);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogError(e, "Trigger catch-up failed; series completed while the server was down may not have fired");
        }
    }
}
