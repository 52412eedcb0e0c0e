using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kaapana.Tests.Dicom.Network;

/// <summary>DCMTK processes for network tests: always with TCP_NODELAY=1, always killed (whole tree) when done or timed out.</summary>
public static class Dcmtk
{
    public static string Require(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/bin"))
        {
            if (dir.Length == 0) continue;
            var p = Path.Combine(dir, tool);
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException($"DCMTK tool '{tool}' is not installed: install the Debian package dcmtk (apt-get install dcmtk).");
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static ProcessStartInfo StartInfo(string tool, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(Require(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["TCP_NODELAY"] = "1";
        return psi;
    }

    /// <summary>Runs a tool to completion (killed after <paramref name="timeoutMs"/>, which is then an error).</summary>
    public static async Task<Result> RunAsync(string tool, IEnumerable<string> args, int timeoutMs = 60_000)
    {
        using var p = Process.Start(StartInfo(tool, args)) ?? throw new InvalidOperationException($"Could not start {tool}.");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeoutMs);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            throw new TimeoutException($"{tool} {string.Join(' ', args)} did not finish within {timeoutMs} ms:\n{await stdout}{await stderr}");
        }
        return new Result(p.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// dcmdump of the data set part of each file (meta header and "Used TransferSyntax" lines left out), values in full; one
    /// dcmdump process for all files (+F separates them).
    /// </summary>
    public static async Task<IReadOnlyList<string>> DumpDatasetsAsync(IReadOnlyList<string> files)
    {
        var result = new List<string>();
        foreach (var chunk in files.Chunk(100))
        {
            var r = await RunAsync("dcmdump", ["+F", "+L", "-q", .. chunk]);
            Assert.True(r.ExitCode == 0, $"dcmdump failed: {r.Output}");
            var lines = r.Stdout.Split('\n');
            var starts = Enumerable.Range(0, lines.Length).Where(i => lines[i].StartsWith("# dcmdump (", StringComparison.Ordinal)).Append(lines.Length).ToList();
            Assert.Equal(chunk.Length, starts.Count - 1);
            for (int f = 0; f < chunk.Length; f++)
            {
                var part = lines[starts[f]..starts[f + 1]];
                int ds = Array.FindIndex(part, l => l.StartsWith("# Dicom-Data-Set", StringComparison.Ordinal));
                result.Add(string.Join('\n', part[(ds + 1)..].Where(l => !l.StartsWith("# Used TransferSyntax", StringComparison.Ordinal)).Select(l => l.TrimEnd())
                    .Where(l => l.Length > 0)));
            }
        }
        return result;
    }
}

/// <summary>A DCMTK storescp process on a free port writing into a folder; killed on dispose.</summary>
public sealed class StoreScpProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    public int Port { get; }
    public string OutputDir { get; }
    public string Log { get { lock (_log) return _log.ToString(); } }

    private StoreScpProcess(Process p, int port, string dir)
    {
        _process = p;
        Port = port;
        OutputDir = dir;
        p.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
    }

    public static async Task<StoreScpProcess> StartAsync(string outputDir, string aeTitle = "STORESCP", params string[] extraArgs)
    {
        Directory.CreateDirectory(outputDir);
        for (int attempt = 0; ; attempt++)
        {
            int port = Ports.Free();
            var args = new List<string> { "+xa", "-aet", aeTitle, "-od", outputDir, "-v" };
            args.AddRange(extraArgs);
            args.Add(port.ToString());
            var p = Process.Start(Dcmtk.StartInfo("storescp", args))!;
            var scp = new StoreScpProcess(p, port, outputDir);
            if (await Ports.WaitListeningAsync(port, p)) return scp;
            await scp.DisposeAsync();
            if (attempt == 2) throw new InvalidOperationException($"storescp did not start: {scp.Log}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        _process.Dispose();
    }
}

public static class Ports
{
    public static int Free()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static async Task<bool> WaitListeningAsync(int port, Process? process = null, int timeoutMs = 10_000)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (process is { HasExited: true }) return false;
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }
        return false;
    }
}

/// <summary>Log lines captured from the server, for "one clear line" assertions.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void Dispose() { }

    public IReadOnlyList<string> Lines(LogLevel atLeast) =>
        Entries.Where(e => e.Level >= atLeast).Select(e => $"{e.Level}: {e.Message}").ToList();

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, category, formatter(state, exception)));
    }
}

/// <summary>Stores every instance as <c>{n:D5}.dcm</c> in arrival order and records what arrived.</summary>
public sealed class RecordingStoreHandler(string folder) : IStoreHandler
{
    private int _count;

    public sealed record Received(int Index, string Path, string CallingAE, string CalledAE, string SopClassUid, string SopInstanceUid, string TransferSyntaxUid);

    public ConcurrentQueue<Received> Items { get; } = new();
    public string Folder { get; } = folder;

    public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken ct)
    {
        Directory.CreateDirectory(Folder);
        var n = Interlocked.Increment(ref _count);
        var path = Path.Combine(Folder, $"{n:D5}.dcm");
        await using (var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            await request.WritePart10Async(fs, ct);
        Items.Enqueue(new Received(n, path, request.CallingAE, request.CalledAE, request.SopClassUid, request.SopInstanceUid, request.TransferSyntax.Uid));
        return DicomStatus.Success;
    }

    /// <summary>Received items in arrival order.</summary>
    public List<Received> Ordered => Items.OrderBy(i => i.Index).ToList();
}

/// <summary>Our server on 127.0.0.1 with a free port, a recording store handler and captured logs.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public DicomServer Server { get; }
    public RecordingStoreHandler Store { get; }
    public CapturingLoggerProvider Logs { get; } = new();
    public string Directory { get; }
    private readonly ServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;

    public int Port => Server.LocalEndPoint!.Port;

    private TestServer(DicomServerOptions options, bool withStore)
    {
        Directory = Path.Combine(Path.GetTempPath(), "kaapana-net-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        Store = new RecordingStoreHandler(Path.Combine(Directory, "received"));
        var sc = new ServiceCollection();
        if (withStore) sc.AddSingleton<IStoreHandler>(Store);
        _services = sc.BuildServiceProvider();
        _loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(Logs));
        Server = new DicomServer(options, _services, _loggerFactory);
    }

    public static async Task<TestServer> StartAsync(Action<DicomServerOptions>? configure = null, bool withStore = true)
    {
        var options = new DicomServerOptions { BindAddress = "127.0.0.1", Port = 0, AETitles = ["KAAPANA"], ShutdownGracePeriod = TimeSpan.FromSeconds(2) };
        configure?.Invoke(options);
        var s = new TestServer(options, withStore);
        await s.Server.StartAsync();
        return s;
    }

    /// <summary>Waits (bounded) until no connection is open: no socket or task leaked by the last case.</summary>
    public async Task AssertNoConnectionsAsync(int timeoutMs = 20_000)
    {
        var sw = Stopwatch.StartNew();
        while (Server.OpenConnections > 0 && sw.ElapsedMilliseconds < timeoutMs) await Task.Delay(10);
        Assert.True(Server.OpenConnections == 0,
            $"{Server.OpenConnections} connection(s) still open: {string.Join("; ", Server.Associations)}\n{string.Join("\n", Logs.Lines(LogLevel.Debug))}");
        Assert.Equal(0, Server.ActiveAssociations);
    }

    public DicomClient Client(string calledAE = "KAAPANA", string callingAE = "TESTSCU") =>
        new(new DicomClientOptions { Host = "127.0.0.1", Port = Port, CalledAE = calledAE, CallingAE = callingAE }, loggerFactory: _loggerFactory);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await _services.DisposeAsync();
        _loggerFactory.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Temporary folder deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kaapana-nt-" + Guid.NewGuid().ToString("N")[..12]);
    public TempDir() => Directory.CreateDirectory(Path);
    public string Sub(string name) { var p = System.IO.Path.Combine(Path, name); Directory.CreateDirectory(p); return p; }
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
