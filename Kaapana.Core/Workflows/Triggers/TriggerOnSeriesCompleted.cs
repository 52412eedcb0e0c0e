using Kaapana.Core.Archive.Ingest;

namespace Kaapana.Core.Workflows.Triggers;

/// <summary>Hands every completed series to the trigger rules (the archive calls each handler in turn, after marking the series complete).</summary>
public sealed class TriggerOnSeriesCompleted(TriggerFirer firer) : ISeriesCompletedHandler
{
    public Task HandleAsync(SeriesCompleted completed, CancellationToken ct) => firer.OnSeriesCompletedAsync(completed, ct);
}
