using Kaapana.Core.Archive;
using Kaapana.Core.Archive.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaapana.Tests.Archive;

public class StorageTests
{
    [Fact]
    public async Task Staged_objects_appear_only_when_committed_and_read_back_whole_or_by_range()
    {
        var root = Directory.CreateTempSubdirectory("kaapana-storage-").FullName;
        try
        {
            var storage = new FileSystemArchiveStorage(root, ArchiveDurability.PowerLossSafe, NullLogger<FileSystemArchiveStorage>.Instance);
            var bytes = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
            var key = ArchiveLayout.InstanceKey("1.2.3", "1.2.3.4", "1.2.3.4.5", new string('c', 64));
            Assert.Matches(@"^instances/[0-9a-f]{2}/[0-9a-f]{16}/[0-9a-f]{16}/[0-9a-f]{16}\.c{12}\.dcm$", key);

            await using (var staged = storage.Create())
            {
                await staged.Content.WriteAsync(bytes);
                Assert.Null(storage.GetLength(key));
                Assert.Empty(storage.EnumerateKeys());
                await staged.CommitAsync(key, overwrite: false, CancellationToken.None);
            }
            Assert.Equal(bytes.Length, storage.GetLength(key));
            Assert.Equal([key], storage.EnumerateKeys());
            Assert.Empty(Directory.EnumerateFiles(storage.StagingDir));
            await using (var s = storage.OpenRead(key))
            {
                var copy = new MemoryStream();
                await s.CopyToAsync(copy);
                Assert.Equal(bytes, copy.ToArray());
            }
            await using (var s = storage.ReadRange(key, 99_990, 100))
            {
                var copy = new MemoryStream();
                await s.CopyToAsync(copy);
                Assert.Equal(bytes[99_990..], copy.ToArray()); // clipped at the end
            }

            // Not committed: nothing stays behind.
            await using (var abandoned = storage.Create())
                await abandoned.Content.WriteAsync(bytes);
            Assert.Empty(Directory.EnumerateFiles(storage.StagingDir));

            // A second object under the same key without overwrite fails and leaves the first.
            await using (var again = storage.Create())
            {
                await again.Content.WriteAsync(new byte[10]);
                await Assert.ThrowsAsync<IOException>(() => again.CommitAsync(key, overwrite: false, CancellationToken.None));
            }
            Assert.Equal(bytes.Length, storage.GetLength(key));

            storage.FlushDirectories([key]);
            Assert.True(storage.Delete(key));
            Assert.False(storage.Delete(key));
            // Emptied folders go too.
            Assert.False(Directory.Exists(Path.Combine(root, ArchiveLayout.InstancesFolder)));
            Assert.Throws<ArgumentException>(() => storage.OpenRead("../etc/passwd"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
