using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Kaapana.Core.Archive.Index;
using Kaapana.Core.Archive.Projects;
using Kaapana.Core.Archive.Storage;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Archive.Ingest;

/// <summary>
/// The ingest pipeline: stream to a staging file while hashing -> parse and validate the header -> duplicate policy ->
/// rename into place -> batched index commit -> answer. Instances with the same SOP Instance UID are serialised (a striped
/// lock held from the duplicate check to the commit); everything else runs concurrently.
/// </summary>
public sealed class IngestService : IIngestService, IDisposable
{
    /// <summary>
    /// Whole-file parse (so a truncated file is caught) that leaves every value over 4 KB, pixel data included, on disk:
    /// memory stays small whatever the instance size. Deflated files are the exception (inflated in memory to be read).
    /// </summary>
    private static readonly DicomReadOptions ParseOptions = new() { LargeValueThreshold = 4096 };

    private const int CopyBufferSize = 128 * 1024;
    private readonly SemaphoreSlim[] _uidLocks = Enumerable.Range(0, 1024).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly IArchiveStorage _storage;
    private readonly IndexWriter _writer;
    private readonly IProjectCatalog _projects;
    private readonly IDbContextFactory<KaapanaDbContext> _dbFactory;
    private readonly ArchiveOptions _options;
    private readonly ILogger<IngestService> _logger;

    public IngestService(IArchiveStorage storage, IndexWriter writer, IProjectCatalog projects, IDbContextFactory<KaapanaDbContext> dbFactory,
        IOptions<KaapanaOptions> options, ILogger<IngestService> logger)
    {
        _storage = storage;
        _writer = writer;
        _projects = projects;
        _dbFactory = dbFactory;
        _options = options.Value.Archive;
        _logger = logger;
    }

    // Read connections for the duplicate check, one per concurrent ingester, each with its lookup statement compiled
    // once (an EF Core query with a context per instance cost more than the rest of the check).
    private readonly ConcurrentBag<IndexRowStore> _readers = [];
    private const int MaxIdleReaders = 8;

    private IndexRowStore.InstanceRow? FindInstance(string sopInstanceUid)
    {
        if (!_readers.TryTake(out var reader)) reader = IndexRowStore.Open(_dbFactory);
        IndexRowStore.InstanceRow? row;
        try
        {
            row = reader.FindInstance(sopInstanceUid);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
        if (_readers.Count < MaxIdleReaders) _readers.Add(reader);
        else reader.Dispose();
        return row;
    }

    public void Dispose()
    {
        while (_readers.TryTake(out var reader)) reader.Dispose();
    }

    public async Task<IngestResult> IngestAsync(Stream input, IngestContext context, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);

        var (target, targetError) = await _projects.ResolveIngestTargetAsync(context, ct).ConfigureAwait(false);
        if (target is null)
        {
            await DrainAsync(input, ct).ConfigureAwait(false);
            return Rejected(null, targetError!);
        }

        IStagedObject staged;
        try
        {
            staged = _storage.Create();
        }
        catch (IOException ex)
        {
            return Failure(null, ex);
        }

        await using (staged.ConfigureAwait(false))
        {
            // 1. Stream to the staging file while hashing.
            string contentHash;
            long size;
            StagedHead head;
            try
            {
                (contentHash, size, head) = await CopyAsync(input, staged.Content, context.DatasetEncoding, ct).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                return Failure(null, ex);
            }

            // 2. Parse and validate: from the first bytes still in memory (the header of a typical instance lies there), the
            //    file opened only when the header runs beyond them; large values after it are skipped by position.
            DicomFile file;
            try
            {
                using var read = new StagedHeadStream(head, size, staged.OpenRead);
                file = DicomReader.ReadFile(read, ParseOptions, (staged.Content as FileStream)?.Name);
            }
            catch (DicomFormatException ex)
            {
                return Rejected(null, $"not a readable DICOM instance: {ex.Message}");
            }
            finally
            {
                head.Dispose();
            }
            var (record, error) = IndexAttributes.Extract(file);
            if (record is null) return Rejected(null, error!);
            if (context.DatasetEncoding is { } enc && enc.SopInstanceUid != record.SOPInstanceUID)
                _logger.LogWarning("SOP Instance UID of the data set ({DatasetUid}) differs from the one announced ({Announced}); the data set's is used",
                    record.SOPInstanceUID, enc.SopInstanceUid);
            if (file.Warnings.Count > 0)
                _logger.LogDebug("Instance {SopInstanceUid} read with warnings: {Warnings}", record.SOPInstanceUID, file.Warnings);

            var key = ArchiveLayout.InstanceKey(record.StudyInstanceUID, record.SeriesInstanceUID, record.SOPInstanceUID, contentHash);
            var result = new IngestResult
            {
                Status = IngestStatus.Stored, SopInstanceUid = record.SOPInstanceUID, SopClassUid = record.SOPClassUID,
                StudyInstanceUid = record.StudyInstanceUID, SeriesInstanceUid = record.SeriesInstanceUID, ContentHash = contentHash, Size = size,
            };

            if (context.RequiredStudyInstanceUid is { } requiredStudy && requiredStudy != record.StudyInstanceUID)
                return Rejected(result, $"the instance belongs to study {record.StudyInstanceUID}, not to the study {requiredStudy} it was sent to");
            // Before the duplicate check: even an identical copy must not link another project's instance to this one.
            if (context.Admission is { } admission
                && await admission(new IngestCandidate(record.StudyInstanceUID, record.SeriesInstanceUID, record.SOPInstanceUID), ct).ConfigureAwait(false) is { } refusal)
                return Rejected(result, refusal) with { Failure = IngestFailure.Refused };

            // 3. Duplicates, 4. rename, 5. index: one SOP Instance UID at a time.
            var uidLock = _uidLocks[(uint)StringComparer.Ordinal.GetHashCode(record.SOPInstanceUID) % (uint)_uidLocks.Length];
            await uidLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var existing = FindInstance(record.SOPInstanceUID);

                long? replaces = null;
                if (existing is not null)
                {
                    if (await SameContentAsync(existing.ContentHash, contentHash, staged, ct).ConfigureAwait(false))
                    {
                        // Idempotent: the same instance again. Restore its file if it went missing, and file it where this copy was sent.
                        if (_storage.GetLength(existing.StoragePath) is null)
                        {
                            await staged.CommitAsync(existing.StoragePath, overwrite: true, ct).ConfigureAwait(false);
                            _logger.LogWarning("Restored the missing file {Key} of instance {SopInstanceUid} from a duplicate", existing.StoragePath, record.SOPInstanceUID);
                        }
                        await _writer.WriteAsync(IndexWriteRequest.Link(record.SOPInstanceUID, target.ProjectId, target.DatasetId), ct).ConfigureAwait(false);
                        return result with { Status = IngestStatus.Duplicate };
                    }
                    switch (context.DuplicatePolicy ?? _options.DuplicatePolicy)
                    {
                        case DuplicatePolicy.Reject:
                            return result with { Status = IngestStatus.Rejected, Reason = "an instance with this SOP Instance UID and different content is stored already" };
                        case DuplicatePolicy.Keep:
                            _logger.LogWarning("Instance {SopInstanceUid} received again with different content (hash {New}, stored {Old}); keeping the stored one",
                                record.SOPInstanceUID, contentHash, existing.ContentHash);
                            await _writer.WriteAsync(IndexWriteRequest.Link(record.SOPInstanceUID, target.ProjectId, target.DatasetId), ct).ConfigureAwait(false);
                            return result with { Status = IngestStatus.Duplicate, ContentDiffers = true };
                        default:
                            _logger.LogInformation("Instance {SopInstanceUid} replaced (hash {Old} -> {New})", record.SOPInstanceUID, existing.ContentHash, contentHash);
                            replaces = existing.Id;
                            break;
                    }
                }

                try
                {
                    await staged.CommitAsync(key, overwrite: true, ct).ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    return Failure(result, ex);
                }

                var request = IndexWriteRequest.NewInstance(record, file.Dataset, key, size, contentHash, context, target.ProjectId, target.DatasetId, replaces);
                IndexWriteOutcome outcome;
                try
                {
                    // Past this point the file is in place: the caller's cancellation no longer applies, the row must be settled.
                    outcome = await _writer.WriteAsync(request, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    TryDelete(key);
                    return Failure(result, ex);
                }
                if (outcome.Status == IndexWriteStatus.AlreadyIndexed)
                {
                    // Indexed meanwhile by a door that does not take these locks (a re-index from the files): theirs stays.
                    if (outcome.ExistingStoragePath != key) TryDelete(key);
                    _logger.LogWarning("Instance {SopInstanceUid} was indexed by another writer meanwhile; keeping that row", record.SOPInstanceUID);
                    return result with { Status = IngestStatus.Duplicate, ContentDiffers = outcome.ExistingContentHash != contentHash };
                }
                return result with { Replaced = replaces is not null };
            }
            finally
            {
                uidLock.Release();
            }
        }
    }

    /// <summary>
    /// Copies the input to the staging file while hashing it. The first <see cref="CopyBufferSize"/> bytes (with the Part 10
    /// header written in front of a network data set) are kept and returned, so the header can be parsed without reading the
    /// file back. A network data set is read as the fragments it arrived in and written straight from their PDU buffers;
    /// any other input is read in whole buffers.
    /// </summary>
    private static async Task<(string Hash, long Size, StagedHead Head)> CopyAsync(Stream input, Stream output, DatasetEncoding? encoding, CancellationToken ct)
    {
        var header = encoding is null ? [] : DicomFileMeta.EncodeHeader(DicomFileMeta.Create(encoding.SopClassUid, encoding.SopInstanceUid, encoding.TransferSyntax, encoding.SourceAETitle));
        if (input is IChunkedReadStream chunks) return await CopyChunksAsync(chunks, output, header, ct).ConfigureAwait(false);
        using var buffered = new BufferedChunks(input);
        return await CopyChunksAsync(buffered, output, header, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// See <see cref="CopyAsync"/>: the head is copied to stay in memory for the parse, the rest is hashed and written chunk by
    /// chunk. Chunks under 64 KB (peers with small PDUs) are gathered first, so writes stay large. The meta
    /// header goes out with the head (one write); it is not hashed (ContentHasher: the data set only). The writes are
    /// synchronous: a 128 KB write into the page cache takes tens of microseconds, less than the thread-pool hop an
    /// asynchronous file write costs on Unix.
    /// </summary>
    private static async Task<(string Hash, long Size, StagedHead Head)> CopyChunksAsync(IChunkedReadStream input, Stream output, byte[] header, CancellationToken ct)
    {
        const int SmallChunk = 64 * 1024;
        using var hasher = new ContentHasher();
        var first = ArrayPool<byte>.Shared.Rent(header.Length + CopyBufferSize);
        byte[]? gather = null;
        try
        {
            header.CopyTo(first, 0);
            int headLength = header.Length, headEnd = header.Length + CopyBufferSize;
            var chunk = ReadOnlyMemory<byte>.Empty;
            bool ended = false;
            while (headLength < headEnd)
            {
                chunk = await input.ReadChunkAsync(ct).ConfigureAwait(false);
                if (chunk.IsEmpty)
                {
                    ended = true;
                    break;
                }
                int n = Math.Min(chunk.Length, headEnd - headLength);
                chunk.Span[..n].CopyTo(first.AsSpan(headLength));
                headLength += n;
                chunk = chunk[n..];
            }
            hasher.Append(first.AsSpan(header.Length, headLength - header.Length));
            output.Write(first, 0, headLength);
            long size = headLength;
            var head = new StagedHead(first, headLength);
            first = null; // owned by head from here on
            try
            {
                int gathered = 0;
                while (!ended)
                {
                    if (!chunk.IsEmpty)
                    {
                        hasher.Append(chunk.Span);
                        size += chunk.Length;
                        if (chunk.Length >= SmallChunk && gathered == 0)
                        {
                            output.Write(chunk.Span);
                        }
                        else
                        {
                            gather ??= ArrayPool<byte>.Shared.Rent(CopyBufferSize);
                            while (!chunk.IsEmpty)
                            {
                                int n = Math.Min(chunk.Length, CopyBufferSize - gathered);
                                chunk.Span[..n].CopyTo(gather.AsSpan(gathered));
                                gathered += n;
                                chunk = chunk[n..];
                                if (gathered == CopyBufferSize)
                                {
                                    output.Write(gather, 0, gathered);
                                    gathered = 0;
                                }
                            }
                        }
                    }
                    chunk = await input.ReadChunkAsync(ct).ConfigureAwait(false);
                    ended = chunk.IsEmpty;
                }
                if (gathered > 0) output.Write(gather!, 0, gathered);
                output.Flush();
                return (hasher.Finish(), size, head);
            }
            catch
            {
                head.Dispose();
                throw;
            }
        }
        finally
        {
            if (gather is not null) ArrayPool<byte>.Shared.Return(gather);
            if (first is not null) ArrayPool<byte>.Shared.Return(first);
        }
    }

    /// <summary>
    /// Whether a received copy has the stored content. An archive from before XXH128 holds SHA-256 hashes: then the staged
    /// copy is hashed again with SHA-256 (rare: only a re-sent instance of such an archive pays it).
    /// </summary>
    private static async ValueTask<bool> SameContentAsync(string stored, string received, IStagedObject staged, CancellationToken ct)
    {
        var algorithm = ContentHasher.AlgorithmOf(stored);
        if (algorithm == ContentHasher.AlgorithmOf(received)) return stored == received;
        await using var read = staged.OpenRead();
        return (await ContentHasher.HashAsync(read, ct, algorithm).ConfigureAwait(false)).Hash == stored;
    }

    /// <summary>A plain stream (upload, STOW, file) as chunks: whole buffers, however small the stream's own reads are.</summary>
    private sealed class BufferedChunks(Stream input) : IChunkedReadStream, IDisposable
    {
        private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);

        public async ValueTask<ReadOnlyMemory<byte>> ReadChunkAsync(CancellationToken ct = default) =>
            _buffer.AsMemory(0, await FillAsync(input, _buffer.AsMemory(0, CopyBufferSize), ct).ConfigureAwait(false));

        public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the input ends; the count read.</summary>
    private static async ValueTask<int> FillAsync(Stream input, Memory<byte> buffer, CancellationToken ct)
    {
        int filled = 0, n;
        while (filled < buffer.Length && (n = await input.ReadAsync(buffer[filled..], ct).ConfigureAwait(false)) > 0)
            filled += n;
        return filled;
    }

    private void TryDelete(string key)
    {
        try
        {
            _storage.Delete(key);
        }
        catch (IOException ex)
        {
            _logger.LogWarning(ex, "Could not remove {Key} after a failed index write; the consistency check will report it", key);
        }
    }

    /// <summary>Reads the rest of the input so a network sender is not left blocked (the caller owns the stream).</summary>
    private static async Task DrainAsync(Stream input, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            while (await input.ReadAsync(buffer, ct).ConfigureAwait(false) > 0) { }
        }
        catch (IOException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private IngestResult Rejected(IngestResult? partial, string reason)
    {
        _logger.LogWarning("Instance rejected: {Reason}", reason);
        return (partial ?? new IngestResult { Status = IngestStatus.Rejected }) with { Status = IngestStatus.Rejected, Reason = reason };
    }

    private IngestResult Failure(IngestResult? partial, Exception ex)
    {
        var kind = IsOutOfSpace(ex) ? IngestFailure.OutOfResources : IngestFailure.Internal;
        var reason = ex is ChannelClosedException ? "the archive is shutting down"
            : kind == IngestFailure.OutOfResources ? "out of disk space"
            : ex.Message;
        _logger.LogError(ex, "Ingest of {SopInstanceUid} failed: {Reason}", partial?.SopInstanceUid, reason);
        return (partial ?? new IngestResult { Status = IngestStatus.Failed }) with { Status = IngestStatus.Failed, Failure = kind, Reason = reason };
    }

    /// <summary>Disk full: ENOSPC/EDQUOT on Unix, ERROR_DISK_FULL/ERROR_HANDLE_DISK_FULL on Windows, SQLITE_FULL from the index.</summary>
    public static bool IsOutOfSpace(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case SqliteException { SqliteErrorCode: 13 }: // SQLITE_FULL
                    return true;
                case IOException io:
                    int code = io.HResult & 0xFFFF;
                    if (OperatingSystem.IsWindows() ? code is 112 or 39 : io.HResult is 28 or 122) return true; // ENOSPC, EDQUOT (Linux)
                    if (io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)) return true;
                    break;
            }
        }
        return false;
    }
}
