using System.Buffers;
using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kaapana.Core.Workflows.Docker;

/// <summary>
/// <see cref="IContainerRunner"/> on the Docker Engine API (Docker.DotNet; works with API 1.41 and later). Containers run
/// sandboxed: no network unless allowed, a non-root user, no new privileges, all capabilities dropped, a read-only root
/// with a tmpfs <c>/tmp</c> when asked, limits on CPU, memory and processes. The Docker socket is never mounted.
/// </summary>
public sealed class DockerContainerRunner : IContainerRunner, IDisposable
{
    private const string InputPath = "/input";
    private const string OutputPath = "/output";

    private readonly DockerOptions _options;
    private readonly ILogger<DockerContainerRunner> _logger;
    private readonly DockerClientConfiguration? _configuration;
    private readonly DockerClient? _client;
    private readonly string? _endpointError;

    public DockerContainerRunner(IOptions<DockerOptions> options, ILogger<DockerContainerRunner> logger)
    {
        _options = options.Value;
        _logger = logger;
        // A bad endpoint must not stop the server from starting: it is reported by PingAsync and by every call.
        try
        {
            _configuration = new DockerClientConfiguration(new Uri(_options.Endpoint), defaultTimeout: _options.RequestTimeout);
            _client = _configuration.CreateClient();
        }
        catch (Exception e) // Docker.DotNet throws a bare Exception for an unknown scheme
        {
            _configuration?.Dispose();
            _configuration = null;
            _endpointError = $"Kaapana:Docker:Endpoint '{_options.Endpoint}' is not usable: {e.Message}";
        }
    }

    public async Task<ContainerEngineStatus> PingAsync(CancellationToken cancellationToken = default)
    {
        if (_client is null)
        {
            return ContainerEngineStatus.Down(_options.Endpoint, _endpointError!);
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_options.PingTimeout);
        try
        {
            var version = await _client.System.GetVersionAsync(cts.Token);
            return ContainerEngineStatus.Up(_options.Endpoint, version.Version, version.APIVersion);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ContainerEngineStatus.Down(_options.Endpoint, $"no answer within {_options.PingTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception e)
        {
            return ContainerEngineStatus.Down(_options.Endpoint, Describe(e));
        }
    }

    public async Task<ContainerImageInfo?> InspectImageAsync(string image, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(image);
        var client = Client();
        ImageInspectResponse response;
        try
        {
            response = await client.Images.InspectImageAsync(image, cancellationToken);
        }
        catch (DockerImageNotFoundException)
        {
            return null;
        }
        catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (IsEngineFailure(e, cancellationToken))
        {
            throw EngineFailure($"inspecting image {image}", e);
        }
        return new ContainerImageInfo(
            response.ID,
            response.RepoTags?.ToArray() ?? [],
            response.RepoDigests?.ToArray() ?? [],
            response.Config?.Labels is { } labels ? new Dictionary<string, string>(labels) : new Dictionary<string, string>(),
            new DateTimeOffset(DateTime.SpecifyKind(response.Created, DateTimeKind.Utc)));
    }

    public async Task<ContainerRunResult> RunAsync(ContainerRunSpec spec, Func<ContainerLogLine, CancellationToken, ValueTask>? onLogLine = null,
        CancellationToken cancellationToken = default)
    {
        Validate(spec);
        if (spec.NetworkAccess) RefuseSharedNetwork(_options.AllowedNetworkMode);
        var client = Client();
        var user = ContainerUser.Resolve(_options.ContainerUser);
        user.PrepareOutputDirectory(spec.OutputDirectory);

        // Creation, attach and start are not cancelled midway: a request cancelled after the engine acted would leave a
        // container we do not know the ID of. They are short; cancellation is honoured right after.
        string id;
        try
        {
            id = (await client.Containers.CreateContainerAsync(CreateParameters(spec, user), CancellationToken.None)).ID;
        }
        catch (Exception e) when (IsEngineFailure(e, CancellationToken.None))
        {
            throw EngineFailure($"creating the container of item {spec.ItemId} from image {spec.Image}", e);
        }
        _logger.LogInformation("Container {ContainerId} created for run {RunId} item {ItemId} from {Image} as {User}",
            Short(id), spec.RunId, spec.ItemId, spec.Image, user);

        MultiplexedStream? output = null;
        try
        {
            try
            {
                // Attached before the start, so not a byte of output is missed even if the container exits at once.
                output = await client.Containers.AttachContainerAsync(id, tty: false,
                    new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, CancellationToken.None);
                await client.Containers.StartContainerAsync(id, new ContainerStartParameters(), CancellationToken.None);
            }
            catch (Exception e) when (IsEngineFailure(e, CancellationToken.None))
            {
                throw EngineFailure($"starting container {Short(id)} of item {spec.ItemId}", e);
            }
            var startedAt = DateTimeOffset.UtcNow;

            using var timeout = new CancellationTokenSource(spec.Timeout ?? _options.DefaultRunTimeout);
            using var pumpFailed = new CancellationTokenSource();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, pumpFailed.Token);
            var tail = new ContainerLogTail(_options.LogTailLines, _options.LogTailBytes);
            var pump = PumpAsync(output, tail, onLogLine, stop.Token, pumpFailed);

            long? exitCode = null;
            ContainerOutcome? stoppedAs = null;
            try
            {
                exitCode = (await client.Containers.WaitContainerAsync(id, stop.Token)).StatusCode;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                stoppedAs = cancellationToken.IsCancellationRequested ? ContainerOutcome.Cancelled
                    : timeout.IsCancellationRequested ? ContainerOutcome.TimedOut
                    : null; // the log consumer failed; its exception is rethrown below
                await KillAsync(client, id);
            }
            catch (Exception e) when (IsEngineFailure(e, stop.Token))
            {
                await KillAsync(client, id);
                throw EngineFailure($"waiting for container {Short(id)} of item {spec.ItemId}", e);
            }
            var finishedAt = DateTimeOffset.UtcNow;

            // The attach stream ends when the container does; the pump only drains what is still buffered.
            await DrainAsync(pump, output, id);

            var (imageId, outOfMemory) = await InspectEndAsync(client, id);
            var outcome = stoppedAs ?? (exitCode == 0 ? ContainerOutcome.Succeeded : ContainerOutcome.Failed);
            var logs = tail.Snapshot();
            _logger.LogInformation("Container {ContainerId} of item {ItemId}: {Outcome}, exit code {ExitCode}, {Lines} log lines, {Bytes} bytes",
                Short(id), spec.ItemId, outcome, exitCode, logs.TotalLines, logs.TotalBytes);
            return new ContainerRunResult(outcome, stoppedAs is null ? exitCode : null, id, imageId, startedAt, finishedAt, outOfMemory, logs);
        }
        finally
        {
            output?.Dispose();
            await RemoveAsync(client, id);
        }
    }

    public async Task<IReadOnlyList<ManagedContainer>> ListContainersAsync(CancellationToken cancellationToken = default)
    {
        var client = Client();
        IList<ContainerListResponse> containers;
        try
        {
            containers = await client.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["label"] = new Dictionary<string, bool> { [$"{ContainerLabels.Instance}={_options.InstanceId}"] = true },
                },
            }, cancellationToken);
        }
        catch (Exception e) when (IsEngineFailure(e, cancellationToken))
        {
            throw EngineFailure("listing containers", e);
        }
        return containers.Select(c => new ManagedContainer(
            c.ID,
            Label(c.Labels, ContainerLabels.Run),
            Label(c.Labels, ContainerLabels.Item),
            c.State ?? "",
            new DateTimeOffset(DateTime.SpecifyKind(c.Created, DateTimeKind.Utc)))).ToList();
    }

    public async Task<IReadOnlyList<ManagedContainer>> ReconcileAsync(IReadOnlySet<string> liveItemIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(liveItemIds);
        var client = Client();
        var orphans = (await ListContainersAsync(cancellationToken)).Where(c => !liveItemIds.Contains(c.ItemId)).ToList();
        foreach (var orphan in orphans)
        {
            _logger.LogWarning("Removing orphan container {ContainerId} of run {RunId} item {ItemId} ({State})",
                Short(orphan.ContainerId), orphan.RunId, orphan.ItemId, orphan.State);
            // Force-remove kills a running container first.
            try
            {
                await client.Containers.RemoveContainerAsync(orphan.ContainerId, new ContainerRemoveParameters { Force = true }, cancellationToken);
            }
            catch (DockerContainerNotFoundException)
            {
                // Gone meanwhile (its own run removed it): what we wanted.
            }
            catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                // "Removal already in progress": someone else is removing it.
                _logger.LogInformation("Orphan container {ContainerId} is already being removed: {Message}", Short(orphan.ContainerId), e.ResponseBody);
            }
            catch (Exception e) when (IsEngineFailure(e, cancellationToken))
            {
                throw EngineFailure($"removing orphan container {Short(orphan.ContainerId)}", e);
            }
        }
        return orphans;
    }

    public void Dispose()
    {
        _client?.Dispose();
        _configuration?.Dispose();
    }

    private CreateContainerParameters CreateParameters(ContainerRunSpec spec, ContainerUser user)
    {
        var environment = new Dictionary<string, string>(spec.Environment);
        // Tools that write caches under $HOME (Python, matplotlib, ...) need a writable one; the user has no home.
        environment.TryAdd("HOME", "/tmp");
        var resources = spec.Resources;
        var host = new HostConfig
        {
            Mounts =
            [
                new Mount { Type = "bind", Source = HostPath(spec.InputDirectory), Target = InputPath, ReadOnly = true },
                new Mount { Type = "bind", Source = HostPath(spec.OutputDirectory), Target = OutputPath, ReadOnly = false },
            ],
            NetworkMode = spec.NetworkAccess ? _options.AllowedNetworkMode : "none",
            SecurityOpt = ["no-new-privileges"],
            CapDrop = ["ALL"],
            ReadonlyRootfs = spec.ReadOnlyRootFilesystem,
            Tmpfs = spec.ReadOnlyRootFilesystem
                ? new Dictionary<string, string> { ["/tmp"] = $"rw,nosuid,nodev,size={_options.TmpfsBytes.ToString(CultureInfo.InvariantCulture)}" }
                : null,
            PidsLimit = _options.PidsLimit,
            NanoCPUs = resources.Cpus is { } cpus ? (long)(cpus * 1e9) : 0,
            Memory = resources.MemoryBytes ?? 0,
            // Equal to Memory: no swap on top of the limit (0 would mean "twice the memory").
            MemorySwap = resources.MemoryBytes ?? 0,
            ShmSize = resources.ShmBytes ?? 0,
            DeviceRequests = resources.Gpus > 0
                ? [new DeviceRequest { Driver = _options.GpuDriver, Count = resources.Gpus, Capabilities = [["gpu"]] }]
                : null,
            // Our copy of the logs comes from the attach stream; Docker's own copy is only for `docker logs`, kept small.
            LogConfig = new LogConfig { Type = "json-file", Config = new Dictionary<string, string> { ["max-size"] = "10m", ["max-file"] = "1" } },
            AutoRemove = false,
        };
        return new CreateContainerParameters
        {
            Image = spec.Image,
            Entrypoint = spec.Entrypoint?.ToList(),
            Cmd = spec.Command?.ToList(),
            Env = environment.Select(e => $"{e.Key}={e.Value}").ToList(),
            User = user.ToString(),
            AttachStdout = true,
            AttachStderr = true,
            Labels = new Dictionary<string, string>
            {
                [ContainerLabels.Run] = spec.RunId,
                [ContainerLabels.Item] = spec.ItemId,
                [ContainerLabels.Instance] = _options.InstanceId,
            },
            HostConfig = host,
        };
    }

    /// <summary>The path the engine's host knows <paramref name="serverPath"/> by (<see cref="DockerOptions.HostPathMappings"/>).</summary>
    private string HostPath(string serverPath)
    {
        var full = Path.GetFullPath(serverPath);
        var match = _options.HostPathMappings
            .Where(m => !string.IsNullOrEmpty(m.ServerPath) && !string.IsNullOrEmpty(m.HostPath))
            .Select(m => (Server: Path.TrimEndingDirectorySeparator(Path.GetFullPath(m.ServerPath)), m.HostPath))
            .Where(m => full == m.Server || full.StartsWith(m.Server + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .OrderByDescending(m => m.Server.Length)
            .FirstOrDefault();
        return match.Server is null ? full : Path.Join(match.HostPath, full[match.Server.Length..]);
    }

    /// <summary>
    /// Reads the multiplexed output until the container closes it, cutting lines per stream. Feeds the bounded tail and
    /// the caller's callback; a callback failure cancels the run (through <paramref name="failed"/>) and is rethrown by the caller.
    /// </summary>
    private async Task PumpAsync(MultiplexedStream output, ContainerLogTail tail, Func<ContainerLogLine, CancellationToken, ValueTask>? onLogLine,
        CancellationToken stop, CancellationTokenSource failed)
    {
        // Keep the reads off the caller's synchronization context and start them before the first await below returns.
        await Task.Yield();
        var splitters = new[] { new ContainerLogLineSplitter(_options.MaxLogLineBytes), new ContainerLogLineSplitter(_options.MaxLogLineBytes) };
        var lines = new List<(ContainerLogLine Line, int Raw)>();
        long number = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (true)
            {
                MultiplexedStream.ReadResult read;
                try
                {
                    read = await output.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None);
                }
                catch (Exception e) when (!stop.IsCancellationRequested)
                {
                    throw EngineFailure("reading the container's output", e);
                }
                if (read.EOF)
                {
                    break;
                }
                if (read.Target == MultiplexedStream.TargetStream.StandardIn)
                {
                    continue;
                }
                var stream = read.Target == MultiplexedStream.TargetStream.StandardError ? ContainerLogStream.Stderr : ContainerLogStream.Stdout;
                splitters[(int)stream].Append(buffer.AsSpan(0, read.Count), (text, raw) => lines.Add((new ContainerLogLine(stream, number++, text), raw)));
                onLogLine = await DeliverAsync(lines, tail, onLogLine, stop);
            }
            foreach (var stream in (ContainerLogStream[])[ContainerLogStream.Stdout, ContainerLogStream.Stderr])
            {
                splitters[(int)stream].Flush((text, raw) => lines.Add((new ContainerLogLine(stream, number++, text), raw)));
            }
            await DeliverAsync(lines, tail, onLogLine, stop);
        }
        catch (Exception) when (!stop.IsCancellationRequested)
        {
            failed.Cancel();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <returns>The callback to use from now on: null once it gave up because the run is stopping.</returns>
    private static async ValueTask<Func<ContainerLogLine, CancellationToken, ValueTask>?> DeliverAsync(List<(ContainerLogLine Line, int Raw)> lines,
        ContainerLogTail tail, Func<ContainerLogLine, CancellationToken, ValueTask>? onLogLine, CancellationToken stop)
    {
        foreach (var (line, raw) in lines)
        {
            tail.Add(line, raw);
            if (onLogLine is null)
            {
                continue;
            }
            try
            {
                await onLogLine(line, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The run is being stopped: the consumer is gone, the tail still gets the rest.
                onLogLine = null;
            }
        }
        lines.Clear();
        return onLogLine;
    }

    private async Task DrainAsync(Task pump, MultiplexedStream output, string id)
    {
        try
        {
            await pump.WaitAsync(_options.RequestTimeout);
        }
        catch (TimeoutException)
        {
            // Output still open after the container ended (should not happen): give up on the rest.
            _logger.LogWarning("Output of container {ContainerId} did not end within {Timeout}; the log tail may be incomplete", Short(id), _options.RequestTimeout);
            output.Dispose();
            try
            {
                await pump;
            }
            catch (Exception e)
            {
                _logger.LogDebug(e, "Log pump of container {ContainerId} ended after its output was closed", Short(id));
            }
        }
    }

    private async Task<(string ImageId, bool OutOfMemory)> InspectEndAsync(DockerClient client, string id)
    {
        try
        {
            var inspect = await client.Containers.InspectContainerAsync(id, CancellationToken.None);
            return (inspect.Image ?? "", inspect.State?.OOMKilled ?? false);
        }
        catch (Exception e) when (IsEngineFailure(e, CancellationToken.None))
        {
            _logger.LogWarning(e, "Could not inspect finished container {ContainerId}", Short(id));
            return ("", false);
        }
    }

    private async Task KillAsync(DockerClient client, string id)
    {
        try
        {
            await client.Containers.KillContainerAsync(id, new ContainerKillParameters { Signal = "KILL" }, CancellationToken.None);
        }
        catch (DockerApiException e) when (e.StatusCode is System.Net.HttpStatusCode.Conflict or System.Net.HttpStatusCode.NotFound)
        {
            // Exited on its own meanwhile.
        }
        catch (Exception e) when (IsEngineFailure(e, CancellationToken.None))
        {
            // Removal (force) follows and kills it too; log, do not mask the outcome.
            _logger.LogWarning(e, "Could not kill container {ContainerId}", Short(id));
        }
    }

    private async Task RemoveAsync(DockerClient client, string id)
    {
        try
        {
            await client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
        }
        catch (DockerContainerNotFoundException)
        {
        }
        catch (Exception e) when (IsEngineFailure(e, CancellationToken.None))
        {
            // Reconcile at the next start-up removes it; the run's outcome stands.
            _logger.LogError(e, "Could not remove container {ContainerId}; it is left for reconciliation", Short(id));
        }
    }

    private static void Validate(ContainerRunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(spec.Image);
        ArgumentException.ThrowIfNullOrWhiteSpace(spec.RunId);
        ArgumentException.ThrowIfNullOrWhiteSpace(spec.ItemId);
        if (!Path.IsPathFullyQualified(spec.InputDirectory) || !Directory.Exists(spec.InputDirectory))
        {
            throw new ArgumentException($"Input folder must be an existing absolute path: '{spec.InputDirectory}'.", nameof(spec));
        }
        if (!Path.IsPathFullyQualified(spec.OutputDirectory))
        {
            throw new ArgumentException($"Output folder must be an absolute path: '{spec.OutputDirectory}'.", nameof(spec));
        }
        if (spec.Timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Timeout must be positive, not {t}.", nameof(spec));
        }
    }

    /// <summary>
    /// Network access means a Docker network of its own, never the host's network namespace (which would reach every
    /// service bound to the host's loopback, the engine's TCP socket among them) nor another container's.
    /// </summary>
    private static void RefuseSharedNetwork(string mode)
    {
        if (mode.Equals("host", StringComparison.OrdinalIgnoreCase) || mode.StartsWith("container:", StringComparison.OrdinalIgnoreCase))
        {
            throw new ContainerEngineException(
                $"Kaapana:Docker:AllowedNetworkMode '{mode}' would share a network namespace with an algorithm; use a Docker network such as 'bridge'.");
        }
    }

    private DockerClient Client() => _client ?? throw new ContainerEngineException(_endpointError!);

    // Cancellation by the caller propagates as itself; anything else the client throws means the engine failed us.
    private static bool IsEngineFailure(Exception e, CancellationToken cancellationToken) =>
        !(e is OperationCanceledException && cancellationToken.IsCancellationRequested) && e is not ContainerEngineException;

    private ContainerEngineException EngineFailure(string what, Exception e) =>
        new($"Docker engine at {_options.Endpoint}: {what} failed: {Describe(e)}", e);

    private static string Describe(Exception e) => e switch
    {
        DockerApiException api => $"{(int)api.StatusCode} {api.ResponseBody?.Trim()}",
        _ when e.InnerException is { } inner => $"{e.Message} ({inner.Message})",
        _ => e.Message,
    };

    private static string Label(IDictionary<string, string>? labels, string key) =>
        labels is not null && labels.TryGetValue(key, out var value) ? value : "";

    private static string Short(string id) => id.Length > 12 ? id[..12] : id;
}
