using Kaapana.Dicom;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Archive.Storage;

/// <summary>
/// <see cref="IArchiveStorage"/> on a local (or shared) file system below one root folder. Objects are staged in
/// <c>&lt;root&gt;/tmp</c>, on the same file system, and renamed into place, so a crash leaves either the whole file or
/// only a staging file (removed at the next start by <see cref="CleanStaging"/>).
/// </summary>
public sealed class FileSystemArchiveStorage : IArchiveStorage
{
    public const string StagingFolder = "tmp";

    private readonly ILogger _logger;

    public FileSystemArchiveStorage(string root, ArchiveDurability durability, ILogger<FileSystemArchiveStorage> logger)
    {
        Root = Path.GetFullPath(root);
        Durability = durability;
        _logger = logger;
        StagingDir = Path.Combine(Root, StagingFolder);
        Directory.CreateDirectory(StagingDir);
    }

    public string Root { get; }
    public string StagingDir { get; }
    public ArchiveDurability Durability { get; }

    /// <summary>The absolute path of a key; rejects keys that would leave the root.</summary>
    public string PathOf(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Contains('\\') || key.StartsWith('/') || key.Split('/').Any(p => p is "" or "." or ".."))
            throw new ArgumentException($"'{key}' is not a valid storage key.", nameof(key));
        return Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar));
    }

    public IStagedObject Create()
    {
        var path = Path.Combine(StagingDir, $"{Guid.NewGuid():N}.part");
        return new StagedFile(this, path);
    }

    public Stream OpenRead(string key) =>
        new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);

    public Stream ReadRange(string key, long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var fs = new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024);
        var start = Math.Min(offset, fs.Length);
        fs.Position = start;
        return new RangeStream(fs, Math.Min(length, fs.Length - start));
    }

    public long? GetLength(string key)
    {
        var info = new FileInfo(PathOf(key));
        return info.Exists ? info.Length : null;
    }

    public bool Delete(string key)
    {
        var path = PathOf(key);
        if (!File.Exists(path)) return false;
        File.Delete(path);
        // Drop directories left empty, up to (not including) the root.
        for (var dir = Path.GetDirectoryName(path); dir != null && dir.Length > Root.Length && IsUnderRoot(dir); dir = Path.GetDirectoryName(dir))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(dir).Any()) break;
                Directory.Delete(dir);
            }
            catch (IOException)
            {
                break; // a concurrent writer just put something there
            }
        }
        return true;
    }

    private bool IsUnderRoot(string dir) => dir.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    public IEnumerable<string> EnumerateKeys()
    {
        var staging = StagingDir + Path.DirectorySeparatorChar;
        foreach (var file in Directory.EnumerateFiles(Root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (file.StartsWith(staging, StringComparison.Ordinal)) continue;
            yield return Path.GetRelativePath(Root, file).Replace(Path.DirectorySeparatorChar, '/');
        }
    }

    public void FlushDirectories(IEnumerable<string> keys)
    {
        if (Durability != ArchiveDurability.PowerLossSafe) return;
        foreach (var dir in keys.Select(k => Path.GetDirectoryName(PathOf(k))!).Distinct(StringComparer.Ordinal))
            SyncDirectory(dir);
    }

    /// <summary>Removes staging files left by a crash. Call before ingest starts.</summary>
    public int CleanStaging()
    {
        int n = 0;
        foreach (var f in Directory.EnumerateFiles(StagingDir))
        {
            try
            {
                File.Delete(f);
                n++;
            }
            catch (IOException ex)
            {
                _logger.LogWarning(ex, "Could not remove staging file {File}", f);
            }
        }
        return n;
    }

    /// <summary>Makes the entries of a directory (renames, new files) durable. A no-op where directories cannot be opened (Windows).</summary>
    internal static void SyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        // .NET refuses to open directories as files, so open(2)/fsync(2)/close(2) directly.
        int fd = Native.Open(dir, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"Cannot open directory {dir} to sync it (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        try
        {
            if (Native.Fsync(fd) != 0)
                throw new IOException($"fsync of directory {dir} failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            Native.Close(fd);
        }
    }

    private static class Native
    {
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int flags);

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int Fsync(int fd);

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }

    private sealed class StagedFile : IStagedObject
    {
        private readonly FileSystemArchiveStorage _storage;
        private readonly string _path;
        private readonly FileStream _content;
        private bool _committed;

        public StagedFile(FileSystemArchiveStorage storage, string path)
        {
            _storage = storage;
            _path = path;
            // Synchronous and unbuffered: ingest writes whole 128 KB chunks, and a synchronous write into the page cache is
            // cheaper than the thread-pool hop of an asynchronous one on Unix.
            _content = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 0, FileOptions.None);
        }

        public Stream Content => _content;

        public Stream OpenRead()
        {
            _content.Flush();
            // Unbuffered: the DICOM reader buffers itself and skips large values with a seek.
            return new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0);
        }

        // Synchronous inside: fsync (power-loss mode), close, mkdir and rename are single system calls.
        public Task CommitAsync(string key, bool overwrite, CancellationToken ct)
        {
            try
            {
                var target = _storage.PathOf(key);
                ct.ThrowIfCancellationRequested();
                if (_storage.Durability == ArchiveDurability.PowerLossSafe)
                    _content.Flush(flushToDisk: true); // fsync before the rename, so the name never points at unwritten data
                _content.Dispose();
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(_path, target, overwrite);
                _committed = true;
                return Task.CompletedTask;
            }
            catch (Exception ex)
            {
                return Task.FromException(ex);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _content.DisposeAsync().ConfigureAwait(false);
            if (!_committed)
            {
                try
                {
                    File.Delete(_path);
                }
                catch (IOException)
                {
                    // removed at the next start by CleanStaging
                }
            }
        }
    }
}

/// <summary>A read-only window of <paramref name="length"/> bytes from the current position of an inner stream, which it owns.</summary>
internal sealed class RangeStream(Stream inner, long length) : ReadOnlyStream
{
    private readonly long _length = length;
    private long _remaining = length;

    public override long Length => _length;
    public override long Position { get => _length - _remaining; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        if (_remaining <= 0) return 0;
        int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        _remaining -= n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining <= 0) return 0;
        int n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
        _remaining -= n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();


    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
