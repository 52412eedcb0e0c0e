namespace Kaapana.Core.Archive.Storage;

/// <summary>
/// Where instance files live: a flat key space of immutable objects (in the style of Orthanc's <c>IStorageArea</c>). Keys are
/// relative, '/'-separated paths chosen by the caller (<see cref="ArchiveLayout"/>). An object appears under its key only
/// complete: it is written to a staging area first and published atomically by <see cref="IStagedObject.CommitAsync"/>.
/// The default is <see cref="FileSystemArchiveStorage"/>; a changed seam gets a new interface version rather than an edit.
/// </summary>
public interface IArchiveStorage
{
    /// <summary>Starts a new object. Write it through <see cref="IStagedObject.Content"/>; disposing without committing discards it.</summary>
    IStagedObject Create();

    /// <summary>Reads a whole object. Throws <see cref="FileNotFoundException"/> when the key holds nothing.</summary>
    Stream OpenRead(string key);

    /// <summary>Reads <paramref name="length"/> bytes from <paramref name="offset"/> (clipped at the end of the object).</summary>
    Stream ReadRange(string key, long offset, long length);

    /// <summary>Size in bytes, or null when the key holds nothing.</summary>
    long? GetLength(string key);

    /// <summary>Removes an object; false when there was none. Never throws for a missing key.</summary>
    bool Delete(string key);

    /// <summary>Every stored key (for re-indexing and consistency checks); staging leftovers are not listed.</summary>
    IEnumerable<string> EnumerateKeys();

    /// <summary>
    /// In <see cref="ArchiveDurability.PowerLossSafe"/> mode: makes the renames of the given keys durable (their directories are
    /// synced, each directory once). The index writer calls it once per batch, before committing the batch's rows.
    /// </summary>
    void FlushDirectories(IEnumerable<string> keys);
}

/// <summary>An object being written. Nothing is visible under a key until <see cref="CommitAsync"/> succeeds.</summary>
public interface IStagedObject : IAsyncDisposable
{
    /// <summary>Write the object's bytes here.</summary>
    Stream Content { get; }

    /// <summary>
    /// Reads back what was written so far (e.g. to parse a header before committing). For the file system storage this is a
    /// <see cref="FileStream"/>, whose <see cref="FileStream.Name"/> lets a DICOM reader leave large values on disk.
    /// </summary>
    Stream OpenRead();

    /// <summary>
    /// Publishes the object under <paramref name="key"/>, replacing what is there when <paramref name="overwrite"/> is true
    /// (otherwise an existing object makes it fail with <see cref="IOException"/>). Flushes and closes <see cref="Content"/>.
    /// </summary>
    Task CommitAsync(string key, bool overwrite, CancellationToken ct);
}
