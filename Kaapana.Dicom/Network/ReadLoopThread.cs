using System.Collections.Concurrent;
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
    private readonly BlockingCollection<Action> _posted = new();
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
        task.ContinueWith(static (_, s) => ((BlockingCollection<Action>)s!).CompleteAdding(), _posted,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        foreach (var continuation in _posted.GetConsumingEnumerable()) continuation();
        _posted.Dispose();
        if (task.Exception is { } failure) done.TrySetException(failure.InnerExceptions);
        else if (task.IsCanceled) done.TrySetCanceled();
        else done.TrySetResult();
    }

    public readonly struct ReturnAwaitable(ReadLoopThread owner) : ICriticalNotifyCompletion
    {
        public ReturnAwaitable GetAwaiter() => this;
        public bool IsCompleted => Thread.CurrentThread == owner._thread;
        public void GetResult() { }

        public void OnCompleted(Action continuation)
        {
            var context = ExecutionContext.Capture();
            owner._posted.Add(context is null ? continuation : () => ExecutionContext.Run(context, static c => ((Action)c!)(), continuation));
        }

        // The async method builder restores the execution context itself.
        public void UnsafeOnCompleted(Action continuation) => owner._posted.Add(continuation);
    }
}
