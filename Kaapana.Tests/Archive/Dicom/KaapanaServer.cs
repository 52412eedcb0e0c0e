using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Kaapana.Core.Archive.Index;
using Kaapana.Tests.Server;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Kaapana.Tests.Archive.Dicom;

/// <summary>
/// The real Kaapana.Server as a child process with its DICOM listener on a free loopback port, on a data folder the test
/// owns (so it can be killed and started again on the same data). Unlike <see cref="ServerProcess"/> it takes extra
/// configuration and can be SIGKILLed and restarted.
/// </summary>
public sealed class KaapanaServer : IAsyncDisposable
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private KaapanaServer(Process process, string dataDir, int dicomPort, Uri http)
    {
        _process = process;
        DataDir = dataDir;
        DicomPort = dicomPort;
        BaseAddress = http;
    }

    public string DataDir { get; }

    /// <summary>The server's PID (for /proc measurements).</summary>
    public int ProcessId => _process.Id;
    public int DicomPort { get; }
    public Uri BaseAddress { get; }
    public string Output => string.Join(Environment.NewLine, _output);
    public string IndexPath => Path.Combine(DataDir, "kaapana.db");
    public string ArchiveDir => Path.Combine(DataDir, "archive");

    public static int FreePort() => TestPorts.Free();

    /// <summary>An HTTP client signed in as the test admin (HTTP Basic).</summary>
    public HttpClient CreateClient(TimeSpan? timeout = null) => TestCredentials.Client(BaseAddress, timeout);

    /// <param name="settings">Configuration as environment variables, e.g. <c>["Kaapana__Archive__ReceivingEndpoints__0__AETitle"] = "LUNG_STUDY"</c>.</param>
    /// <param name="bindAddress">Where the DICOM listener binds (e.g. the host side of a test network namespace).</param>
    /// <param name="http">Where the web server listens (default: a free loopback port), e.g. the host side of a test network namespace.</param>
    /// <param name="waitUntilReady">False: return as soon as the process runs (e.g. to stop it while it starts).</param>
    public static async Task<KaapanaServer> StartAsync(string dataDir, IDictionary<string, string>? settings = null, int? dicomPort = null,
        string bindAddress = "127.0.0.1", Uri? http = null, bool waitUntilReady = true)
    {
        int port = dicomPort ?? FreePort();
        http ??= new Uri($"http://127.0.0.1:{FreePort()}");
        var psi = new ProcessStartInfo(RepoPaths.DotnetHost)
        {
            WorkingDirectory = dataDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(RepoPaths.ServerDll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(http.ToString().TrimEnd('/'));
        psi.ArgumentList.Add($"--Kaapana:Dicom:Port={port}");
        psi.ArgumentList.Add($"--Kaapana:Dicom:BindAddress={bindAddress}");
        psi.Environment["Kaapana__DataDir"] = dataDir;
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment.Remove("ASPNETCORE_URLS");
        TestCredentials.AddTo(psi.Environment);
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) psi.Environment[k] = v;

        var process = new Process { StartInfo = psi };
        var server = new KaapanaServer(process, dataDir, port, http);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            if (waitUntilReady) await server.WaitUntilReadyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        // Hosted services (the DICOM listener among them) start before Kestrel, so /healthz answering means port open too.
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < StartupTimeout)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit();
                Assert.Fail($"Server exited with code {_process.ExitCode}:{Environment.NewLine}{Output}");
            }
            try
            {
                using var r = await probe.GetAsync("/healthz");
                if (r.StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        Assert.Fail($"Server not ready within {StartupTimeout}:{Environment.NewLine}{Output}");
    }

    /// <summary>Waits until the server printed a line containing <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!_output.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited || sw.Elapsed > timeout)
                Assert.Fail($"The server did not print '{text}' (exited: {_process.HasExited}):{Environment.NewLine}{Output}");
            await Task.Delay(5);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>SIGTERM, as <c>docker stop</c> or systemd send it; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        Assert.True(kill(_process.Id, 15) == 0, $"kill -TERM {_process.Id} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The server did not exit within {timeout} of SIGTERM:{Environment.NewLine}{Output}");
        }
        _process.WaitForExit(); // drain the output readers
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>A read-only context on the server's index (SQLite WAL: readers do not disturb the writer).</summary>
    public KaapanaDbContext OpenIndex() => OpenIndex(IndexPath);

    public static KaapanaDbContext OpenIndex(string path)
    {
        var cs = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        return new KaapanaDbContext(new DbContextOptionsBuilder<KaapanaDbContext>().UseSqlite(cs).Options);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
