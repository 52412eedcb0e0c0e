using Microsoft.Extensions.Options;

namespace Kaapana.Core.Workflows.Engine;

/// <summary>The per-server limit on parallel containers: CPU slots for ordinary items, GPU slots for those needing GPUs.</summary>
public sealed class ContainerSlots(IOptions<WorkflowOptions> options)
{
    private readonly SemaphoreSlim _cpu = new(Math.Max(1, options.Value.CpuSlots));
    private readonly SemaphoreSlim _gpu = new(Math.Max(0, options.Value.GpuSlots));

    public int GpuSlots { get; } = Math.Max(0, options.Value.GpuSlots);

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    public async Task<IDisposable> AcquireAsync(bool gpu, CancellationToken ct)
    {
        var semaphore = gpu ? _gpu : _cpu;
        if (gpu && GpuSlots == 0) throw new InvalidOperationException("This server has no GPU slots (Kaapana:Workflows:GpuSlots).");
        await semaphore.WaitAsync(ct);
        return new Slot(semaphore);
    }

    private sealed class Slot(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) semaphore.Release();
        }
    }
}
