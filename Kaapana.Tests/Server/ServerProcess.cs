using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kaapana.Tests.Server;

/// <summary>
/// The real Kaapana.Server running as a child process on a free loopback port with its own
/// temporary data folder. Disposing kills the whole process tree and removes the folder.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly string _ownedDir;

    private ServerProcess(Process process, Uri baseAddress, string dataDir, string ownedDir)
    {
        _process = process;
        BaseAddress = baseAddress;
        DataDir = dataDir;
        _ownedDir = ownedDir;
        Http = TestCredentials.Client(baseAddress, TimeSpan.FromSeconds(30));
    }

    public Uri BaseAddress { get; }

    /// <summary>Absolute data folder the server should be using.</summary>
    public string DataDir { get; }

    public HttpClient Http { get; }

    /// <summary>Another client signed in as the test admin, e.g. with a longer timeout.</summary>
    public HttpClient CreateClient(TimeSpan? timeout = null) => TestCredentials.Client(BaseAddress, timeout);

    /// <summary>What the server printed so far (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>
    /// Starts the server and waits until <c>/healthz</c> answers 200.
    /// The server's working directory is a fresh temp folder; with <paramref name="relativeDataDir"/>
    /// it is given that relative path, to check it is resolved against the working directory.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string? relativeDataDir = null)
    {
        var root = Directory.CreateTempSubdirectory("kaapana-test-").FullName;
        var dataDir = relativeDataDir is null ? Path.Combine(root, "data") : Path.GetFullPath(Path.Combine(root, relativeDataDir));
        var baseAddress = new Uri($"http://127.0.0.1:{TestPorts.Free()}");

        var startInfo = new ProcessStartInfo(RepoPaths.DotnetHost)
        {
            // Away from the build output, as in production; a relative data dir lands below it.
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(RepoPaths.ServerDll);
        startInfo.ArgumentList.Add("--urls");
        startInfo.ArgumentList.Add(baseAddress.ToString().TrimEnd('/'));
        startInfo.Environment["Kaapana__DataDir"] = relativeDataDir ?? dataDir;
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        TestCredentials.AddTo(startInfo.Environment);
        startInfo.Environment.Remove("ASPNETCORE_URLS");

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var server = new ServerProcess(process, baseAddress, dataDir, root);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };

        try
        {
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await server.WaitUntilHealthyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilHealthyAsync()
    {
        var deadline = Stopwatch.StartNew();
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (deadline.Elapsed < StartupTimeout)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // drain the asynchronous output readers
                Assert.Fail($"Server exited with code {_process.ExitCode} before answering /healthz:{Environment.NewLine}{Output}");
            }

            try
            {
                using var response = await probe.GetAsync("/healthz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // probe timed out; try again until the deadline
            }

            await Task.Delay(200);
        }

        Assert.Fail($"Server did not answer /healthz with 200 within {StartupTimeout}:{Environment.NewLine}{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        catch (OperationCanceledException)
        {
            // a process that survives SIGKILL for 15 s is beyond our reach; still clean up
        }
        finally
        {
            _process.Dispose();
        }

        try
        {
            Directory.Delete(_ownedDir, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder must not fail the run
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
