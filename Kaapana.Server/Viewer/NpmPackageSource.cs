using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Kaapana.Server.Viewer;

/// <summary>A package tarball saved to disk and checked against its integrity string.</summary>
public sealed record DownloadedPackage(string Path, long Bytes, TimeSpan Elapsed, string Integrity, Uri Tarball);

/// <summary>Thrown when the package cannot be fetched or does not match; the message is shown on the 503 page.</summary>
public sealed class ViewerInstallException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Fetches one version of one package from an npm registry over plain HTTP, as the npm client does: the version document
/// (<c>GET {registry}/{name}/{version}</c>) names the tarball and its <c>dist.integrity</c>; the tarball is streamed to a
/// file while hashed. No npm client is needed on the server.
/// </summary>
public sealed class NpmPackageSource(HttpClient http)
{
    public async Task<DownloadedPackage> DownloadAsync(string registry, string name, string version, string? expectedIntegrity,
        string targetFile, CancellationToken cancellationToken)
    {
        var registryBase = new Uri(registry.EndsWith('/') ? registry : registry + "/", UriKind.Absolute);
        // Scoped names travel with the slash escaped, as the npm client sends them.
        var versionUri = new Uri(registryBase, $"{name.Replace("/", "%2f", StringComparison.Ordinal)}/{Uri.EscapeDataString(version)}");

        (Uri tarball, string? announced) = await ReadVersionDocumentAsync(versionUri, name, version, cancellationToken);
        string integrity = expectedIntegrity ?? announced
            ?? throw new ViewerInstallException($"{versionUri} names no dist.integrity and none is configured (Kaapana:Viewer:Integrity).");
        if (announced is not null && expectedIntegrity is not null && announced != expectedIntegrity)
        {
            throw new ViewerInstallException(
                $"The registry announces integrity {announced} for {name}@{version}, but {expectedIntegrity} is expected; refusing it.");
        }

        var (algorithm, expectedHash) = ParseIntegrity(integrity);
        var sw = Stopwatch.StartNew();
        using var response = await SendAsync(tarball, "application/octet-stream", cancellationToken);
        long bytes = 0;
        using var hash = IncrementalHash.CreateHash(algorithm);
        await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
        await using (var file = new FileStream(targetFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                bytes += read;
            }
        }

        if (!CryptographicOperations.FixedTimeEquals(hash.GetHashAndReset(), expectedHash))
        {
            throw new ViewerInstallException($"{tarball} ({bytes:N0} bytes) does not match integrity {integrity}; refusing it.");
        }
        return new DownloadedPackage(targetFile, bytes, sw.Elapsed, integrity, tarball);
    }

    /// <summary>Checks a tarball already on disk (an offline copy) against <paramref name="integrity"/>.</summary>
    public static async Task<DownloadedPackage> VerifyLocalAsync(string file, string integrity, CancellationToken cancellationToken)
    {
        var (algorithm, expectedHash) = ParseIntegrity(integrity);
        var sw = Stopwatch.StartNew();
        byte[] actual;
        long bytes;
        try
        {
            await using var stream = File.OpenRead(file);
            bytes = stream.Length;
            using var hash = IncrementalHash.CreateHash(algorithm);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
            actual = hash.GetHashAndReset();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ViewerInstallException($"Cannot read the package file {file}: {e.Message}", e);
        }
        if (!CryptographicOperations.FixedTimeEquals(actual, expectedHash))
        {
            throw new ViewerInstallException($"{file} ({bytes:N0} bytes) does not match integrity {integrity}; refusing it.");
        }
        return new DownloadedPackage(file, bytes, sw.Elapsed, integrity, new Uri(Path.GetFullPath(file)));
    }

    private async Task<(Uri Tarball, string? Integrity)> ReadVersionDocumentAsync(Uri versionUri, string name, string version,
        CancellationToken cancellationToken)
    {
        using var response = await SendAsync(versionUri, "application/json", cancellationToken);
        try
        {
            using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken),
                cancellationToken: cancellationToken);
            var dist = doc.RootElement.GetProperty("dist");
            var tarball = new Uri(dist.GetProperty("tarball").GetString()!, UriKind.Absolute);
            string? integrity = dist.TryGetProperty("integrity", out var i) ? i.GetString() : null;
            return (tarball, integrity);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or UriFormatException
                                      or ArgumentNullException)
        {
            throw new ViewerInstallException($"{versionUri} is not an npm version document for {name}@{version}: {e.Message}", e);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Uri uri, string accept, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ViewerInstallException($"Cannot reach {uri}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ViewerInstallException($"No answer from {uri} within {http.Timeout}.", e);
        }

        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            throw new ViewerInstallException($"{uri} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
        return response;
    }

    /// <summary>Subresource-Integrity form: <c>sha512-&lt;base64&gt;</c>.</summary>
    internal static (HashAlgorithmName Algorithm, byte[] Hash) ParseIntegrity(string integrity)
    {
        int dash = integrity.IndexOf('-', StringComparison.Ordinal);
        var algorithm = dash < 0 ? null : integrity[..dash].ToLowerInvariant() switch
        {
            "sha512" => HashAlgorithmName.SHA512,
            "sha384" => HashAlgorithmName.SHA384,
            "sha256" => HashAlgorithmName.SHA256,
            "sha1" => HashAlgorithmName.SHA1,
            _ => (HashAlgorithmName?)null,
        };
        if (algorithm is null)
        {
            throw new ViewerInstallException($"Unsupported integrity string '{integrity}' (expected sha512-<base64>).");
        }
        try
        {
            return (algorithm.Value, Convert.FromBase64String(integrity[(dash + 1)..]));
        }
        catch (FormatException e)
        {
            throw new ViewerInstallException($"Integrity string '{integrity}' is not valid base64.", e);
        }
    }
}
