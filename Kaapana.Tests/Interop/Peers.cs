using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Kaapana.Tests.Interop;

/// <summary>
/// External programs the interop tests talk to. A missing program is a failure naming the Debian package that provides it,
/// never a skip. Every DICOM peer runs with <c>TCP_NODELAY=1</c> (FIELD-NOTES: Nagle costs ~43 ms per C-STORE otherwise).
/// </summary>
public static class Peers
{
    /// <summary>Full path of <paramref name="program"/> on PATH, /usr/bin or /usr/sbin; throws naming <paramref name="debianPackage"/>.</summary>
    public static string Require(string program, string debianPackage)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/sbin").Append("/sbin");
        foreach (var dir in dirs)
        {
            var p = Path.Combine(dir, program);
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException(
            $"'{program}' is not installed: install the Debian package {debianPackage} (apt-get install {debianPackage}; scripts/test.sh does).");
    }

    public static string Dcmtk(string tool) => Require(tool, "dcmtk");

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;

        /// <summary>Throws with the program's output unless it exited 0.</summary>
        public Result EnsureSuccess(string what)
        {
            if (ExitCode != 0) throw new InvalidOperationException($"{what} exited {ExitCode}:\n{Output}");
            return this;
        }
    }

    /// <summary>Runs a program to completion with a time limit; arguments are passed without a shell.</summary>
    public static async Task<Result> RunAsync(string path, IEnumerable<string> args, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        using var p = new Process { StartInfo = StartInfo(path, args, environment, workingDirectory) };
        p.Start();
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            throw new TimeoutException($"{Path.GetFileName(path)} {string.Join(' ', args)} did not finish within {timeout ?? TimeSpan.FromSeconds(60)}:\n{await stdout}{await stderr}");
        }
        return new Result(p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a DCMTK tool (with TCP_NODELAY=1).</summary>
    public static Task<Result> RunDcmtkAsync(string tool, IEnumerable<string> args, TimeSpan? timeout = null, string? workingDirectory = null) =>
        RunAsync(Dcmtk(tool), args, timeout, null, workingDirectory);

    internal static ProcessStartInfo StartInfo(string path, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment, string? workingDirectory)
    {
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // closed at once: no peer waits on our stdin
            UseShellExecute = false,
        };
        if (workingDirectory != null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["TCP_NODELAY"] = "1";
        if (environment != null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        return psi;
    }
}

/// <summary>A long-running peer (storescp, Orthanc, ...). Output is collected for failure messages; disposing kills it.</summary>
public sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private PeerProcess(Process process) => _process = process;

    public static PeerProcess Start(string path, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var p = new Process { StartInfo = Peers.StartInfo(path, args, environment, workingDirectory), EnableRaisingEvents = true };
        var peer = new PeerProcess(p);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) peer._output.Enqueue(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) peer._output.Enqueue(e.Data); };
        p.Start();
        p.StandardInput.Close();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return peer;
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the process printed so far.</summary>
    public string Output
    {
        get
        {
            var sb = new StringBuilder();
            foreach (var line in _output) sb.AppendLine(line);
            return sb.ToString();
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await WaitForExitAsync(TimeSpan.FromSeconds(15));
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        finally
        {
            _process.Dispose();
        }
    }
}
