using System.Runtime.CompilerServices;

namespace Kaapana.Dicom.Network;

/// <summary>
/// A thread of its own for one association's read loop, so that the loop can block in <c>recv()</c> on a
/// <see cref="BlockingSocketStream"/> and a C-STORE's data set, ingest and response run on the thread the kernel wakes, as in
/// DCMTK's <c>storescp</c>. An await inside the loop that completes elsewhere (a database query during negotiation, say) moves
/// the loop to the thread pool; <see cref="ReturnAsync"/> brings it back before its next read. The thread ends with the loop.
/// </summary>
internal sealed class ReadLoopThread
{
    // Continuations posted back to the thread. Guarded by itself; waited on with Monitor.Wait, which blocks at once (a
    // BlockingCollection's semaphore spins first, and with several associations waiting that spinning cost CPU on 2 cores).
    private readonly Queue<Action> _posted = new();
    private bool _ended;
    private Thread? _thread;

    private ReadLoopThread() { }

    /// <summary>Starts <paramref name="loop"/> on a new thread; completes as the loop does, once the thread has finished.</summary>
    public static Task RunAsync(Func<ReadLoopThread, Task> loop, string name)
    {
        var owner = new ReadLoopThread();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        owner._thread = new Thread(() => owner.Main(loop, done)) { IsBackground = true, Name = name };
        owner._thread.Start();
        return done.Task;
    }

    /// <summary>Continues on this thread (at once when already on it).</summary>
    public ReturnAwaitable ReturnAsync() => new(this);

    private void Main(Func<ReadLoopThread, Task> loop, TaskCompletionSource done)
    {
        Task task;
        try
        {
            task = loop(this);
        }
        catch (Exception ex)
        {
            task = Task.FromException(ex);
        }
        task.ContinueWith(static (_, s) => ((ReadLoopThread)s!).Post(null), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        while (Take() is { } continuation) continuation();
        if (task.Exception is { } failure) done.TrySetException(failure.InnerExceptions);
        else if (task.IsCanceled) done.TrySetCanceled();
        else done.TrySetResult();
    }

    /// <summary>Queues a continuation for the thread; null: the loop has ended, the thread finishes what is queued and exits.</summary>
    private void Post(Action? continuation)
    {
        lock (_posted)
        {
            if (continuation is null) _ended = true;
            else _posted.Enqueue(continuation);
            Monitor.Pulse(_posted);
        }
    }

    private Action? Take()
    {
        lock (_posted)
        {
            while (_posted.Count == 0)
            {
                if (_ended) return null;
                Monitor.Wait(_posted);
            }
            return _posted.Dequeue();
        }
    }

    public readonly struct ReturnAwaitable(ReadLoopThread owner) : ICriticalNotifyCompletion
    {
        public ReturnAwaitable GetAwaiter() => this;
        public bool IsCompleted => Thread.CurrentThread == owner._thread;
        public void GetResult() { }

        public void OnCompleted(Action continuation)
        {
            var context = ExecutionContext.Capture();
            owner.Post(context is null ? continuation : () => ExecutionContext.Run(context, static c => ((Action)c!)(), continuation));
        }

        // The async method builder restores the execution context itself.
        public void UnsafeOnCompleted(Action continuation) => owner.Post(continuation);
    }
}
