using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Kaapana.Dicom.Network;

// Message assembly (incoming PDVs -> commands, data set streams) and the DIMSE primitives (sending messages, requests).
public sealed partial class DicomAssociation
{
    // Receive state: touched by the read loop only.
    private MemoryStream? _rxCommand;
    private byte _rxCommandPcId;
    private IDataSink? _rxData;

    // ------------------------------------------------------------------ receiving

    private async ValueTask OnDataAsync(RawPdu raw)
    {
        var body = raw.Body;
        foreach (var (offset, length, pcId, header) in PduCodec.ParsePdvs(body.Span))
        {
            if (!_contexts.TryGetValue(pcId, out var pc) || !pc.IsAccepted)
                throw new DicomProtocolException($"PDV for presentation context {pcId}, which is not accepted on this association", DicomAbortReason.InvalidPduParameterValue);
            bool isCommand = (header & 1) != 0, last = (header & 2) != 0;
            var data = body.Slice(offset, length);
            if (isCommand)
            {
                if (_rxData != null)
                    throw new DicomProtocolException("Command fragment while a data set is being received", DicomAbortReason.UnexpectedPduParameter);
                if (_rxCommand != null && _rxCommandPcId != pcId)
                    throw new DicomProtocolException("Command fragments on different presentation contexts", DicomAbortReason.UnexpectedPduParameter);
                _rxCommand ??= new MemoryStream();
                _rxCommandPcId = pcId;
                if (_rxCommand.Length + length > _settings.MaxCommandLength)
                    throw new DicomProtocolException($"Command set longer than {_settings.MaxCommandLength} bytes", DicomAbortReason.InvalidPduParameterValue);
                _rxCommand.Write(data.Span);
                if (last)
                {
                    var bytes = _rxCommand.ToArray();
                    _rxCommand = null;
                    OnCommand(pc, DimseCommand.Decode(bytes));
                }
            }
            else
            {
                if (_rxData is not { } sink)
                    throw new DicomProtocolException("Data set fragment without a command announcing one", DicomAbortReason.UnexpectedPduParameter);
                if (sink.PresentationContextId != pcId)
                    throw new DicomProtocolException("Data set fragment on another presentation context than its command", DicomAbortReason.UnexpectedPduParameter);
                await sink.WriteAsync(raw, data).ConfigureAwait(false);
                if (last)
                {
                    _rxData = null;
                    sink.Complete();
                }
            }
        }
    }

    private void OnCommand(DicomPresentationContext pc, DicomDataset command)
    {
        var message = new DimseMessage(pc.Id, command);
        var field = message.CommandField;
        if (message.IsResponse)
        {
            if (!_pending.TryGetValue(message.MessageIdBeingRespondedTo, out var pending))
            {
                _log.LogDebug("Association #{Id}: dropping {Message}: no request waits for it", Id, message);
                if (message.HasDataSet) _rxData = new DiscardSink(pc.Id);
                return;
            }
            if (message.HasDataSet) _rxData = new BufferSink(pc, command, _settings.MaxResponseDataSetLength, pending);
            else pending.Deliver(message);
            return;
        }
        if (field == DimseCommandField.CCancelRequest)
        {
            foreach (var op in _operations.Values)
            {
                if (op.MessageId != message.MessageIdBeingRespondedTo) continue;
                try
                {
                    _ = op.Cancellation.CancelAsync();
                }
                catch (ObjectDisposedException)
                {
                    // The operation finished while the C-CANCEL was in flight.
                }
            }
            if (message.HasDataSet) _rxData = new DiscardSink(pc.Id);
            return;
        }
        // A C-STORE's data set is handed to its handler on the read loop's thread (see FragmentSink): no thread hop per PDV, and the
        // handler's work after the last fragment (ingest, response) runs right there, as DCMTK's storescp does on its one thread.
        // Other services keep their own thread, so the read loop stays free to see a C-CANCEL while they answer.
        bool inline = field == DimseCommandField.CStoreRequest;
        FragmentSink? dataSink = null;
        if (message.HasDataSet)
        {
            dataSink = new FragmentSink(pc.Id, inline);
            _rxData = dataSink;
        }
        StartOperation(pc, message, dataSink, inline);
    }

    private void StartOperation(DicomPresentationContext pc, DimseMessage request, FragmentSink? sink, bool inline)
    {
        var key = Interlocked.Increment(ref _nextOperationKey);
        var op = new IncomingOperation(request.MessageId, CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token));
        var context = new DimseRequestContext(this, request, pc, sink?.ReaderStream, Services, _log,
            () => sink is null ? Task.CompletedTask : sink.ReceivedAsync());
        Interlocked.Increment(ref _operationCount);
        _operations[key] = op;
        async Task RunAsync()
        {
            try
            {
                await DimseDispatcher.RunAsync(_registry, context, op.Cancellation.Token).ConfigureAwait(false);
            }
            finally
            {
                _operations.TryRemove(key, out _);
                Interlocked.Decrement(ref _operationCount);
                op.Cancellation.Dispose();
                Touch();
            }
        }
        // Inline: started here, it runs until it waits for the first data set bytes (not yet read), then returns to the loop.
        op.Task = inline ? RunAsync() : Task.Run(RunAsync);
    }

    /// <summary>Where the data set fragments of the message being received go.</summary>
    private interface IDataSink
    {
        byte PresentationContextId { get; }
        /// <summary>A fragment of <paramref name="owner"/>'s body (retain the owner to keep it beyond the call).</summary>
        ValueTask WriteAsync(RawPdu owner, ReadOnlyMemory<byte> data);
        void Complete();
        void Fail(Exception ex);
    }

    private sealed class DiscardSink(byte pcId) : IDataSink
    {
        public byte PresentationContextId => pcId;
        public ValueTask WriteAsync(RawPdu owner, ReadOnlyMemory<byte> data) => ValueTask.CompletedTask;
        public void Complete() { }
        public void Fail(Exception ex) { }
    }

    /// <summary>
    /// A request's data set, handed to its service as the fragments it arrived in: each stays in its PDU's pooled buffer (kept
    /// by <see cref="RawPdu.Retain"/>) until the service has read it, so the bytes are not copied on the way (a service reading
    /// through <see cref="IChunkedReadStream"/> copies nothing at all). The read loop waits while more than 1 MiB is unread, so
    /// a slow service slows the peer down through TCP instead of filling memory; once the service stops reading, the rest is
    /// discarded. With <c>runReaderInline</c> a service waiting for data is resumed on the read loop's thread, inside the write
    /// that brought the data (it hands the thread back at its next wait); otherwise on the thread pool.
    /// </summary>
    private sealed class FragmentSink : IDataSink
    {
        private const long PauseWriterAt = 1024 * 1024, ResumeWriterAt = 512 * 1024;

        private readonly object _lock = new();
        private readonly Queue<(RawPdu Owner, ReadOnlyMemory<byte> Data)> _queue = new();
        private readonly bool _inline;
        private readonly TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _unread;             // bytes queued and not yet read
        private int _headRead;            // bytes of the queue's head already read through the stream
        private RawPdu? _lent;            // owner of the chunk last handed out by ReadChunkAsync
        private bool _completed, _readerGone;
        private Exception? _failure;
        private TaskCompletionSource? _readerWaits, _writerWaits;

        public FragmentSink(byte pcId, bool runReaderInline)
        {
            PresentationContextId = pcId;
            _inline = runReaderInline;
            ReaderStream = new Reader(this);
        }

        public byte PresentationContextId { get; }
        public Stream ReaderStream { get; }

        /// <summary>Completes when the last fragment arrived; before waiting, stops feeding a reader that has not finished.</summary>
        public Task ReceivedAsync()
        {
            if (!_received.Task.IsCompleted) ReaderStream.Dispose();
            return _received.Task;
        }

        public ValueTask WriteAsync(RawPdu owner, ReadOnlyMemory<byte> data)
        {
            TaskCompletionSource? wake;
            lock (_lock)
            {
                if (_readerGone || data.IsEmpty) return ValueTask.CompletedTask;
                _queue.Enqueue((owner.Retain(), data));
                _unread += data.Length;
                wake = TakeReaderWaiter();
            }
            wake?.TrySetResult(); // an inline reader runs right here, until it waits again
            return WaitForRoomAsync();
        }

        private ValueTask WaitForRoomAsync()
        {
            Task wait;
            lock (_lock)
            {
                if (_readerGone || _unread <= PauseWriterAt) return ValueTask.CompletedTask;
                _writerWaits = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _writerWaits.Task;
            }
            return new ValueTask(wait);
        }

        public void Complete()
        {
            // Received first: an inline reader runs its response right inside this call and must find it set.
            _received.TrySetResult();
            End(null);
        }

        public void Fail(Exception ex)
        {
            End(ex);
            _received.TrySetException(ex);
            _ = _received.Task.Exception; // observed here; the service sees the failure through its stream
        }

        private void End(Exception? failure)
        {
            TaskCompletionSource? wake;
            lock (_lock)
            {
                if (_completed) return;
                _completed = true;
                _failure = failure;
                wake = TakeReaderWaiter();
            }
            wake?.TrySetResult();
        }

        private TaskCompletionSource? TakeReaderWaiter()
        {
            var w = _readerWaits;
            _readerWaits = null;
            return w;
        }

        // Called under the lock after bytes were read: the writer may go on once the backlog is small again.
        private TaskCompletionSource? TakeWriterWaiterIfRoom()
        {
            if (_writerWaits is null || (_unread > ResumeWriterAt && !_readerGone)) return null;
            var w = _writerWaits;
            _writerWaits = null;
            return w;
        }

        private void ReleaseLent()
        {
            _lent?.Dispose();
            _lent = null;
        }

        /// <summary>
        /// The next chunk (at most <paramref name="max"/> bytes), or empty at the end; null when the reader must wait for
        /// <paramref name="wait"/>. A chunk that finishes its fragment is lent (released at the next call) or, when
        /// <paramref name="lend"/> is false, its owner comes back in <paramref name="release"/> for the caller to dispose once it has copied.
        /// </summary>
        private ReadOnlyMemory<byte>? TryTake(int max, bool lend, out RawPdu? release, out Task? wait, out TaskCompletionSource? wakeWriter)
        {
            release = null;
            wait = null;
            wakeWriter = null;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_readerGone, typeof(Reader));
                ReleaseLent();
                if (_queue.TryPeek(out var head))
                {
                    var rest = head.Data[_headRead..];
                    int n = Math.Min(max, rest.Length);
                    _unread -= n;
                    if (n == rest.Length)
                    {
                        _queue.Dequeue();
                        _headRead = 0;
                        if (lend) _lent = head.Owner; // released at the next call or disposal
                        else release = head.Owner;
                    }
                    else
                    {
                        _headRead += n;
                    }
                    wakeWriter = TakeWriterWaiterIfRoom();
                    return rest[..n];
                }
                if (_completed)
                {
                    if (_failure is not null) throw new IOException($"The data set was not received completely: {_failure.Message}", _failure);
                    return ReadOnlyMemory<byte>.Empty;
                }
                // Inline: the writer's TrySetResult runs the reader's continuation on the read loop's thread.
                _readerWaits = new TaskCompletionSource(_inline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _readerWaits.Task;
                return null;
            }
        }

        private async ValueTask<ReadOnlyMemory<byte>> ReadChunkAsync(CancellationToken ct)
        {
            while (true)
            {
                var chunk = TryTake(int.MaxValue, lend: true, out _, out var wait, out var wakeWriter);
                wakeWriter?.TrySetResult();
                if (chunk is { } c) return c;
                await wait!.WaitAsync(ct).ConfigureAwait(false);
            }
        }

        private async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct)
        {
            if (buffer.IsEmpty) return 0;
            while (true)
            {
                var chunk = TryTake(buffer.Length, lend: false, out var release, out var wait, out var wakeWriter);
                if (chunk is { } c)
                {
                    c.CopyTo(buffer);
                    release?.Dispose(); // only now may the pool hand its buffer out again
                    wakeWriter?.TrySetResult();
                    return c.Length;
                }
                await wait!.WaitAsync(ct).ConfigureAwait(false);
            }
        }

        /// <summary>The service stopped reading: drop what is queued and let a waiting writer go on (it discards the rest).</summary>
        private void ReaderDisposed()
        {
            TaskCompletionSource? wakeWriter;
            lock (_lock)
            {
                if (_readerGone) return;
                _readerGone = true;
                ReleaseLent();
                while (_queue.TryDequeue(out var f)) f.Owner.Dispose();
                _unread = 0;
                wakeWriter = TakeWriterWaiterIfRoom();
            }
            wakeWriter?.TrySetResult();
        }

        /// <summary>Read-only stream over the fragments; disposing it tells the writer to stop.</summary>
        private sealed class Reader(FragmentSink sink) : ReadOnlyStream, IChunkedReadStream
        {
            public override bool CanRead => !Volatile.Read(ref sink._readerGone);

            public ValueTask<ReadOnlyMemory<byte>> ReadChunkAsync(CancellationToken ct = default) => sink.ReadChunkAsync(ct);

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => sink.ReadAsync(buffer, ct);

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
                sink.ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

            /// <summary>Synchronous reads would block a thread on the network; callers must read asynchronously.</summary>
            public override int Read(Span<byte> buffer) =>
                throw new NotSupportedException("The data set arrives from the network: read it asynchronously (ReadAsync/CopyToAsync).");

            protected override void Dispose(bool disposing)
            {
                if (disposing) sink.ReaderDisposed();
                base.Dispose(disposing);
            }

            public override ValueTask DisposeAsync()
            {
                Dispose(true);
                GC.SuppressFinalize(this);
                return ValueTask.CompletedTask;
            }
        }
    }

    /// <summary>A response's data set (e.g. a C-FIND match): collected in memory, decoded, then delivered with its command.</summary>
    private sealed class BufferSink(DicomPresentationContext pc, DicomDataset command, long max, PendingRequest pending) : IDataSink
    {
        private MemoryStream? _buffer = new();

        public byte PresentationContextId => pc.Id;

        public ValueTask WriteAsync(RawPdu owner, ReadOnlyMemory<byte> data)
        {
            if (_buffer is null) return ValueTask.CompletedTask;
            if (_buffer.Length + data.Length > max)
            {
                _buffer = null;
                pending.Fail(new DicomNetworkException($"Response data set exceeds {max} bytes."));
                return ValueTask.CompletedTask;
            }
            _buffer.Write(data.Span);
            return ValueTask.CompletedTask;
        }

        public void Complete()
        {
            if (_buffer is null) return;
            _buffer.Position = 0;
            DicomDataset ds;
            try
            {
                ds = DicomReader.ReadDataset(_buffer, pc.TransferSyntax!);
            }
            catch (DicomException ex)
            {
                pending.Fail(new DicomNetworkException($"Undecodable data set in the response: {ex.Message}", ex));
                return;
            }
            pending.Deliver(new DimseMessage(pc.Id, command, ds));
        }

        public void Fail(Exception ex) => pending.Fail(ex);
    }

    private sealed class PendingRequest
    {
        private readonly Channel<DimseMessage> _responses = Channel.CreateUnbounded<DimseMessage>(new UnboundedChannelOptions { SingleReader = true });

        public void Deliver(DimseMessage response)
        {
            _responses.Writer.TryWrite(response);
            if (response.Status.IsFinal) _responses.Writer.TryComplete();
        }

        public void Fail(Exception ex) => _responses.Writer.TryComplete(ex);

        /// <summary>The next response; throws the failure that ended the request.</summary>
        public async ValueTask<DimseMessage> NextAsync(CancellationToken ct)
        {
            try
            {
                return await _responses.Reader.ReadAsync(ct).ConfigureAwait(false);
            }
            catch (ChannelClosedException ex)
            {
                throw ex.InnerException as DicomException ?? new DicomAssociationAbortedException("The association ended before the final response.", inner: ex);
            }
        }
    }

    // ------------------------------------------------------------------ sending messages

    private ushort NextMessageId()
    {
        while (true)
        {
            var id = (ushort)Interlocked.Increment(ref _nextMessageId);
            if (id != 0) return id;
        }
    }

    /// <summary>
    /// Sends one message: the command set (group length computed) and, when given, its data set, fragmented to the peer's
    /// maximum PDU length. Nothing else is done (no message ID, no waiting). A failure or cancellation after the first byte
    /// went out aborts the association, since half a message cannot be taken back.
    /// </summary>
    public async Task SendMessageAsync(byte presentationContextId, DicomDataset command, DimseDataset? dataset, CancellationToken ct = default)
    {
        if (!_contexts.TryGetValue(presentationContextId, out var pc) || !pc.IsAccepted)
            throw new DicomNetworkException($"Presentation context {presentationContextId} is not accepted on association #{Id}.");
        EnsureOpen();
        var commandBytes = DimseCommand.Encode(command);
        var writeData = dataset is null ? null : await dataset.PrepareAsync(pc.TransferSyntax!, ct).ConfigureAwait(false);

        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        bool locked = true;
        try
        {
            EnsureOpen();
            try
            {
                using (var w = new PDataWriter(_stream, pc.Id, isCommand: true, PeerMaxPduLength, _settings.MaxSendPduLength, Touch))
                {
                    await w.WriteAsync(commandBytes, ct).ConfigureAwait(false);
                    await w.CompleteAsync(ct).ConfigureAwait(false);
                }
                if (writeData != null)
                {
                    using var w = new PDataWriter(_stream, pc.Id, isCommand: false, PeerMaxPduLength, _settings.MaxSendPduLength, Touch);
                    await writeData(w, ct).ConfigureAwait(false);
                    await w.CompleteAsync(ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                _sendLock.Release();
                locked = false;
                var reason = ex is OperationCanceledException ? "sending cancelled in the middle of a message" : $"sending failed: {ex.Message}";
                await AbortInternalAsync(DicomAbortSource.ServiceUser, DicomAbortReason.NotSpecified, reason,
                    ex is OperationCanceledException ? LogLevel.Information : LogLevel.Warning, ex).ConfigureAwait(false);
                if (ex is OperationCanceledException) throw;
                throw new DicomAssociationAbortedException($"Association #{Id} aborted: {reason}", inner: ex);
            }
        }
        finally
        {
            if (locked) _sendLock.Release();
        }
    }

    private void EnsureOpen()
    {
        var state = State;
        if (state is not (DicomAssociationState.Established or DicomAssociationState.AwaitingLocalReleaseResponse))
            throw new DicomAssociationAbortedException($"Association #{Id} cannot send in state {state}{(EndReason is { } r ? $" ({r})" : "")}.");
    }

    /// <summary>
    /// Sends a request and yields its responses up to and including the final (non-pending) one. Sets Message ID and Command
    /// Data Set Type in <paramref name="command"/>. Cancelling <paramref name="ct"/> while waiting sends C-CANCEL-RQ for the
    /// request and stops enumerating (later responses are dropped).
    /// </summary>
    public async IAsyncEnumerable<DimseMessage> SendRequestAsync(byte presentationContextId, DicomDataset command, DimseDataset? dataset = null,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var id = NextMessageId();
        command.Set<ushort>(DicomTags.MessageID, DicomVR.US, id);
        command.Set<ushort>(DicomTags.CommandDataSetType, DicomVR.US, dataset is null ? DimseCommand.NoDataSet : DimseCommand.DataSetPresent);
        var pending = new PendingRequest();
        _pending[id] = pending;
        try
        {
            await SendMessageAsync(presentationContextId, command, dataset, ct).ConfigureAwait(false);
            while (true)
            {
                var response = await NextResponseAsync(pending, id, presentationContextId, ct).ConfigureAwait(false);
                yield return response;
                if (response.Status.IsFinal) yield break;
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async ValueTask<DimseMessage> NextResponseAsync(PendingRequest pending, ushort id, byte pcId, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (_settings.ResponseTimeout != Timeout.InfiniteTimeSpan) timeout.CancelAfter(_settings.ResponseTimeout);
        try
        {
            return await pending.NextAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await TrySendCancelAsync(id, pcId).ConfigureAwait(false);
            throw;
        }
        catch (OperationCanceledException ex)
        {
            var reason = $"no response to message {id} within {_settings.ResponseTimeout.TotalSeconds:0.###} s";
            await AbortInternalAsync(DicomAbortSource.ServiceUser, DicomAbortReason.NotSpecified, reason, LogLevel.Warning, ex).ConfigureAwait(false);
            throw new DicomNetworkException($"Association #{Id}: {reason}.", ex);
        }
    }

    /// <summary>Sends C-CANCEL-RQ for request <paramref name="messageId"/> (C-FIND, C-GET, C-MOVE).</summary>
    public Task CancelRequestAsync(ushort messageId, byte presentationContextId, CancellationToken ct = default) =>
        SendMessageAsync(presentationContextId, DimseCommand.CreateCancelRequest(messageId), null, ct);

    private async Task TrySendCancelAsync(ushort id, byte pcId)
    {
        if (!IsOpen) return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await CancelRequestAsync(id, pcId, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DicomException or OperationCanceledException or IOException or SocketException)
        {
            _log.LogDebug(ex, "Association #{Id}: could not send C-CANCEL-RQ for {MessageId}", Id, id);
        }
    }

    /// <summary>Sends a request and returns its final response (pending responses are skipped).</summary>
    public async Task<DimseMessage> SendRequestForFinalResponseAsync(byte presentationContextId, DicomDataset command, DimseDataset? dataset = null, CancellationToken ct = default)
    {
        DimseMessage? last = null;
        await foreach (var r in SendRequestAsync(presentationContextId, command, dataset, ct).ConfigureAwait(false)) last = r;
        return last ?? throw new DicomNetworkException("No response received.");
    }

    // ------------------------------------------------------------------ C-ECHO, C-STORE

    /// <summary>C-ECHO on the Verification context.</summary>
    public Task<DimseMessage> EchoAsync(CancellationToken ct = default)
    {
        var pc = FindContextForRequest(DicomUids.Verification)
            ?? throw new DicomNetworkException($"The peer did not accept the Verification SOP Class on association #{Id}.");
        return SendRequestForFinalResponseAsync(pc.Id, DimseCommand.CreateEchoRequest(), null, ct);
    }

    /// <summary>
    /// C-STORE of an in-memory file. The data set is encoded in the accepted syntax: the file's own when the peer accepted it,
    /// else another uncompressed one (compressed pixel data cannot be decompressed yet: that is an error).
    /// </summary>
    public Task<DimseMessage> StoreAsync(DicomFile file, DicomStoreOptions? options = null, CancellationToken ct = default)
    {
        if (file.IsPartial) throw new DicomNetworkException("The file was read only partially; it cannot be sent.");
        var sopClass = file.Dataset.GetString(DicomTags.SOPClassUID);
        if (sopClass.Length == 0) sopClass = file.FileMetaInfo.GetString(DicomTags.MediaStorageSOPClassUID);
        var sopInstance = file.Dataset.GetString(DicomTags.SOPInstanceUID);
        if (sopInstance.Length == 0) sopInstance = file.FileMetaInfo.GetString(DicomTags.MediaStorageSOPInstanceUID);
        if (sopClass.Length == 0 || sopInstance.Length == 0)
            throw new DicomNetworkException("The data set has no SOP Class UID or SOP Instance UID.");
        var pc = SelectStoreContext(sopClass, file.TransferSyntax);
        return SendStoreAsync(pc, sopClass, sopInstance, DimseDataset.FromDataset(file.Dataset, file.TransferSyntax), options, ct);
    }

    /// <summary>
    /// C-STORE of a Part 10 file. When the peer accepted the file's transfer syntax the data set is streamed from disk byte for
    /// byte (no parsing, constant memory); otherwise it is parsed and re-encoded in an accepted uncompressed syntax.
    /// </summary>
    public async Task<DimseMessage> StoreFileAsync(string path, DicomStoreOptions? options = null, CancellationToken ct = default)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (fs.ConfigureAwait(false))
        {
            var header = await DicomFileMeta.TryReadHeaderAsync(fs, ct).ConfigureAwait(false);
            if (header != null)
            {
                var (sopClass, sopInstance) = DatasetUids(fs, header);
                var pc = SelectStoreContext(sopClass, header.TransferSyntax);
                if (pc.TransferSyntax!.Uid == header.TransferSyntax.Uid)
                    return await SendStoreAsync(pc, sopClass, sopInstance, DimseDataset.FromEncoded(fs, header.TransferSyntax, leaveOpen: true), options, ct)
                        .ConfigureAwait(false);
            }
        }
        DicomFile file;
        try
        {
            file = DicomFile.Open(path);
        }
        catch (DicomException ex)
        {
            throw new DicomNetworkException($"Cannot read {path}: {ex.Message}", ex);
        }
        return await StoreAsync(file, options, ct).ConfigureAwait(false);
    }

    /// <summary>C-STORE of a Part 10 file read from a stream (data set streamed when the syntax was accepted as is).</summary>
    public async Task<DimseMessage> StoreAsync(Stream part10, DicomStoreOptions? options = null, CancellationToken ct = default)
    {
        long start = part10.CanSeek ? part10.Position : -1;
        var header = await DicomFileMeta.TryReadHeaderAsync(part10, ct).ConfigureAwait(false);
        if (header != null)
        {
            var pc = SelectStoreContext(header.SopClassUid, header.TransferSyntax);
            var data = pc.TransferSyntax!.Uid == header.TransferSyntax.Uid || !header.TransferSyntax.IsEncapsulated
                ? DimseDataset.FromEncoded(part10, header.TransferSyntax, leaveOpen: true)
                : throw CompressedNotAccepted(header.SopClassUid, header.TransferSyntax);
            return await SendStoreAsync(pc, header.SopClassUid, header.SopInstanceUid, data, options, ct).ConfigureAwait(false);
        }
        if (start < 0) throw new DicomNetworkException("The stream is not a Part 10 file with a meta information group length, and cannot be re-read.");
        part10.Position = start;
        DicomFile file;
        try
        {
            file = DicomFile.Read(part10);
        }
        catch (DicomException ex)
        {
            throw new DicomNetworkException($"Cannot read the stream: {ex.Message}", ex);
        }
        return await StoreAsync(file, options, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// SOP Class/Instance UID from the data set itself (the command must name the instance the data set is; the meta header of
    /// a few real files disagrees with it), read from the first elements only; the stream is left at the data set start.
    /// </summary>
    private static (string SopClass, string SopInstance) DatasetUids(Stream stream, DicomFileMeta.Header header)
    {
        string sopClass = header.SopClassUid, sopInstance = header.SopInstanceUid;
        if (!stream.CanSeek) return (sopClass, sopInstance);
        try
        {
            var head = DicomReader.ReadDataset(stream, header.TransferSyntax,
                new DicomReadOptions { StopWhen = t => t > DicomTags.SOPInstanceUID, LargeValueThreshold = null });
            var c = head.GetString(DicomTags.SOPClassUID);
            var i = head.GetString(DicomTags.SOPInstanceUID);
            if (c.Length > 0) sopClass = c;
            if (i.Length > 0) sopInstance = i;
        }
        catch (DicomException)
        {
            // Undecodable start: the meta header's UIDs are all we have; the peer will judge the data set.
        }
        stream.Position = header.DataSetOffset;
        return (sopClass, sopInstance);
    }

    private async Task<DimseMessage> SendStoreAsync(DicomPresentationContext pc, string sopClass, string sopInstance, DimseDataset data,
        DicomStoreOptions? options, CancellationToken ct)
    {
        options ??= DicomStoreOptions.Default;
        var command = DimseCommand.CreateStoreRequest(sopClass, sopInstance, options.Priority, options.MoveOriginatorAE, options.MoveOriginatorMessageId);
        return await SendRequestForFinalResponseAsync(pc.Id, command, data, ct).ConfigureAwait(false);
    }

    /// <summary>The context to send a <paramref name="sopClass"/> instance encoded as <paramref name="syntax"/> on: its own syntax, else an uncompressed one.</summary>
    internal DicomPresentationContext SelectStoreContext(string sopClass, DicomTransferSyntax syntax)
    {
        var candidates = _contexts.Values.Where(pc => pc.IsAccepted && pc.AbstractSyntax == sopClass && CanInvoke(pc)).OrderBy(pc => pc.Id).ToList();
        var exact = candidates.FirstOrDefault(pc => pc.TransferSyntax!.Uid == syntax.Uid);
        if (exact != null) return exact;
        if (!syntax.IsEncapsulated)
        {
            var uncompressed = candidates.Where(pc => !pc.TransferSyntax!.IsEncapsulated)
                .OrderBy(pc => pc.TransferSyntax!.Uid switch
                {
                    "1.2.840.10008.1.2.1" => 0,
                    "1.2.840.10008.1.2" => 1,
                    _ => 2,
                })
                .FirstOrDefault();
            if (uncompressed != null) return uncompressed;
        }
        if (candidates.Count == 0)
            throw new DicomNetworkException(
                $"No accepted presentation context for {DicomUidRegistry.Lookup(sopClass)?.Name ?? sopClass} on association #{Id}.");
        throw CompressedNotAccepted(sopClass, syntax);
    }

    private DicomNetworkException CompressedNotAccepted(string sopClass, DicomTransferSyntax syntax)
    {
        var accepted = string.Join(", ", _contexts.Values.Where(pc => pc.IsAccepted && pc.AbstractSyntax == sopClass).Select(pc => pc.TransferSyntax!.Name).Distinct());
        return new DicomNetworkException(
            $"The instance is encoded as {syntax.Name}, which the peer did not accept (accepted: {(accepted.Length > 0 ? accepted : "none")}); "
            + "converting between these syntaxes needs decompression, which is not supported yet.");
    }
}

/// <summary>Options of one C-STORE request.</summary>
public sealed record DicomStoreOptions(DimsePriority Priority = DimsePriority.Medium, string? MoveOriginatorAE = null, ushort? MoveOriginatorMessageId = null)
{
    public static DicomStoreOptions Default { get; } = new();
}
