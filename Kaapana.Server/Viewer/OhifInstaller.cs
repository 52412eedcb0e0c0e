using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace Kaapana.Server.Viewer;

/// <summary>Figures of one install, logged and shown in tests.</summary>
public sealed record ViewerInstallResult(string Directory, bool Downloaded, long DownloadBytes, TimeSpan DownloadTime,
    TimeSpan InstallTime, int Files, long InstalledBytes, int RewrittenReferences);

/// <summary>
/// Installs <c>@ohif/app</c> into <c>&lt;root&gt;/ohif-&lt;version&gt;</c>: download (integrity-checked), keep only <c>dist/</c>
/// without the parts we do not serve, move it under the base path, pre-compress text assets, then one rename. A crash at any
/// point leaves either no folder of that name or a complete one; temp leftovers are removed by the next install. A lock file
/// lets several servers share one root: the second waits, then finds the first one's install.
/// </summary>
public sealed partial class OhifInstaller(NpmPackageSource source, ILogger<OhifInstaller> logger)
{
    public const string PackageName = "@ohif/app";

    /// <summary>Bumped when the rewrites or the kept files change, so older installs are redone.</summary>
    public const int Layout = 1;

    public const string MarkerFile = ".kaapana-viewer.json";
    private const string TempPrefix = ".tmp-";
    private const string LockFile = ".install.lock";

    /// <summary>Folders of the package we do not serve: the ONNX runtime (AI tools, 136 MB) and the slide-microscopy viewer.</summary>
    private static readonly string[] DroppedFolders = ["ort/", "dicom-microscopy-viewer/"];

    /// <summary>
    /// Dropped files: the generated <c>app-config.js</c> replaces OHIF's demo one; the service-worker precache list
    /// (never registered: its loader needs an internet CDN) names the dropped folders; Netlify/serve deploy files.
    /// </summary>
    private static readonly string[] DroppedFiles = ["app-config.js", "sw.js", "_headers", "_redirects", "serve.json"];

    private static readonly HashSet<string> Compressible = new(StringComparer.OrdinalIgnoreCase)
    {
        ".js", ".mjs", ".css", ".json", ".wasm", ".svg", ".html", ".map", ".txt", ".xml", ".webapp", ".ico",
    };

    public static string VersionDirectory(string root, string version) => Path.Combine(root, $"ohif-{version}");

    /// <summary>The installed folder if it is complete and of the current layout, else null.</summary>
    public static string? FindInstalled(string root, string version, string basePath)
    {
        string dir = VersionDirectory(root, version);
        try
        {
            var marker = JsonSerializer.Deserialize<InstallMarker>(File.ReadAllText(Path.Combine(dir, MarkerFile)));
            return marker is { Layout: Layout } && marker.Version == version && marker.BasePath == basePath ? dir : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    public async Task<ViewerInstallResult> InstallAsync(ViewerOptions options, string root, string basePath, CancellationToken cancellationToken)
    {
        if (!VersionPattern().IsMatch(options.Version))
        {
            throw new ViewerInstallException($"Kaapana:Viewer:Version '{options.Version}' is not a package version.");
        }
        Directory.CreateDirectory(root);
        await using var installLock = await AcquireLockAsync(root, cancellationToken);

        if (FindInstalled(root, options.Version, basePath) is { } existing)
        {
            return new ViewerInstallResult(existing, false, 0, TimeSpan.Zero, TimeSpan.Zero, 0, 0, 0);
        }

        RemoveLeftovers(root);
        string id = Guid.NewGuid().ToString("N");
        string tarball = Path.Combine(root, $"{TempPrefix}{id}.tgz");
        string staging = Path.Combine(root, $"{TempPrefix}{id}");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.DownloadTimeout);
            DownloadedPackage package;
            try
            {
                package = string.IsNullOrWhiteSpace(options.PackageFile)
                    ? await source.DownloadAsync(options.Registry, PackageName, options.Version, options.ExpectedIntegrity, tarball, timeout.Token)
                    : await NpmPackageSource.VerifyLocalAsync(options.PackageFile, options.ExpectedIntegrity
                        ?? throw new ViewerInstallException("Kaapana:Viewer:PackageFile needs Kaapana:Viewer:Integrity for a version other than the pinned one."),
                        timeout.Token);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ViewerInstallException($"Fetching {PackageName}@{options.Version} from {options.Registry} took longer than {options.DownloadTimeout}.", e);
            }
            logger.LogInformation("Fetched {Package}@{Version} from {Tarball}: {Bytes:N0} bytes in {Seconds:F1} s",
                PackageName, options.Version, package.Tarball, package.Bytes, package.Elapsed.TotalSeconds);

            var sw = Stopwatch.StartNew();
            (int files, long bytes) = await ExtractDistAsync(package.Path, staging, cancellationToken);
            int rewritten = 0;
            foreach (string file in Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories))
            {
                rewritten += OhifBasePathRewriter.RewriteFile(file, basePath);
            }
            if (rewritten == 0)
            {
                throw new ViewerInstallException($"{PackageName}@{options.Version} has none of the root paths this installer rewrites; its layout is not the one this server knows.");
            }
            await PrecompressAsync(staging, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(staging, MarkerFile), JsonSerializer.Serialize(
                new InstallMarker(PackageName, options.Version, package.Integrity, basePath, Layout, DateTimeOffset.UtcNow)), cancellationToken);

            FlushToDisk(staging);

            string target = VersionDirectory(root, options.Version);
            string old = Path.Combine(root, $"{TempPrefix}old-{id}");
            if (Directory.Exists(target))
            {
                // An older layout: moved out of the way whole, so the name never points at a half-deleted folder.
                Directory.Move(target, old);
            }
            Directory.Move(staging, target);
            TryDelete(old);
            sw.Stop();
            return new ViewerInstallResult(target, true, package.Bytes, package.Elapsed, sw.Elapsed, files, bytes, rewritten);
        }
        finally
        {
            TryDelete(tarball);
            TryDelete(staging);
        }
    }

    /// <summary>Extracts <c>package/dist/**</c> minus the dropped parts into <paramref name="staging"/>.</summary>
    private static async Task<(int Files, long Bytes)> ExtractDistAsync(string tarball, string staging, CancellationToken cancellationToken)
    {
        const string dist = "package/dist/";
        string stagingRoot = Path.GetFullPath(staging) + Path.DirectorySeparatorChar;
        Directory.CreateDirectory(staging);
        int files = 0;
        long bytes = 0;
        await using var file = File.OpenRead(tarball);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        try
        {
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                    || !entry.Name.StartsWith(dist, StringComparison.Ordinal))
                {
                    continue;
                }
                string relative = entry.Name[dist.Length..];
                if (DroppedFolders.Any(f => relative.StartsWith(f, StringComparison.Ordinal)) || DroppedFiles.Contains(relative))
                {
                    continue;
                }
                string destination = Path.GetFullPath(Path.Combine(staging, relative));
                if (!destination.StartsWith(stagingRoot, StringComparison.Ordinal))
                {
                    throw new ViewerInstallException($"The package holds an entry outside its folder: '{entry.Name}'.");
                }
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                await entry.ExtractToFileAsync(destination, overwrite: false, cancellationToken);
                files++;
                bytes += entry.Length;
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new ViewerInstallException($"The package tarball is damaged: {e.Message}", e);
        }

        if (!File.Exists(Path.Combine(staging, "index.html")))
        {
            throw new ViewerInstallException($"The package has no {dist}index.html; it is not an OHIF production build.");
        }
        return (files, bytes);
    }

    /// <summary>A <c>.gz</c> beside each text asset, served to browsers that accept gzip: compressed once here, not per request.</summary>
    private static Task PrecompressAsync(string staging, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(
            Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories)
                .Where(f => Compressible.Contains(Path.GetExtension(f)) && new FileInfo(f).Length > 1024),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = cancellationToken },
            async (path, ct) =>
            {
                string gz = path + ".gz";
                await using (var input = File.OpenRead(path))
                await using (var output = File.Create(gz))
                await using (var zip = new GZipStream(output, CompressionLevel.Optimal))
                {
                    await input.CopyToAsync(zip, ct);
                }
                if (new FileInfo(gz).Length >= new FileInfo(path).Length * 9 / 10)
                {
                    File.Delete(gz); // not worth a second variant
                }
            });

    /// <summary>
    /// Every file reaches the disk before the rename publishes the folder: the marker alone cannot tell a power-cut install
    /// with empty files from a good one. About 180 fsyncs, a fraction of a second once per version.
    /// </summary>
    private static void FlushToDisk(string staging)
    {
        foreach (string path in Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories))
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            file.Flush(flushToDisk: true);
        }
    }

    private static async Task<FileStream> AcquireLockAsync(string root, CancellationToken cancellationToken)
    {
        string path = Path.Combine(root, LockFile);
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive advisory lock on Linux too; the OS drops it if the holder dies.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
    }

    /// <summary>Temp files of an install that died; only called under the lock, so none belongs to a running install.</summary>
    private void RemoveLeftovers(string root)
    {
        foreach (string path in Directory.EnumerateFileSystemEntries(root, TempPrefix + "*"))
        {
            logger.LogInformation("Removing {Path}, left by an interrupted viewer install", path);
            TryDelete(path);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // removed by the next install
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[0-9A-Za-z][0-9A-Za-z.+-]*$")]
    private static partial System.Text.RegularExpressions.Regex VersionPattern();

    private sealed record InstallMarker(string Package, string Version, string Integrity, string BasePath, int Layout, DateTimeOffset InstalledAt);
}
