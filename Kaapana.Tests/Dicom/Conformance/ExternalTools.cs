using System.Diagnostics;
using System.Text;

namespace Kaapana.Tests.Dicom.Conformance;

/// <summary>
/// Sample data from Debian's python3-pydicom and the DCMTK command line tools. Missing prerequisites are failures,
/// never skips, and name the Debian package to install.
/// </summary>
public static class ExternalTools
{
    public const string PydicomData = "/usr/lib/python3/dist-packages/pydicom/data";
    public static string TestFilesDir => Path.Combine(PydicomData, "test_files");
    public static string CharsetFilesDir => Path.Combine(PydicomData, "charset_files");

    /// <summary>The pydicom test_files directory; throws naming the Debian package when absent.</summary>
    public static string RequireTestFiles() => RequireDir(TestFilesDir);

    public static string RequireCharsetFiles() => RequireDir(CharsetFilesDir);

    private static string RequireDir(string dir) => Directory.Exists(dir)
        ? dir
        : throw new InvalidOperationException($"Sample data {dir} is missing: install the Debian package python3-pydicom (apt-get install python3-pydicom).");

    /// <summary>Every file (recursively) of test_files and charset_files, as paths relative to <see cref="PydicomData"/>.</summary>
    public static IReadOnlyList<string> AllSampleFiles()
    {
        RequireTestFiles();
        RequireCharsetFiles();
        return Directory.EnumerateFiles(TestFilesDir, "*", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(CharsetFilesDir, "*", SearchOption.AllDirectories))
            .Select(f => Path.GetRelativePath(PydicomData, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>A sample file's full path; throws naming the Debian package when the sample data is not installed.</summary>
    public static string FullPath(string relative) => Path.Combine(RequireDir(PydicomData), relative);

    /// <summary>Full path of a DCMTK tool; throws naming the Debian package when it is not installed.</summary>
    public static string RequireDcmtk(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(Path.PathSeparator).Append("/usr/bin"))
        {
            var p = Path.Combine(dir, tool);
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException($"DCMTK tool '{tool}' is not installed: install the Debian package dcmtk (apt-get install dcmtk).");
    }

    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr)
    {
        /// <summary>Stdout as text with each byte one char (DCMTK output is bytes; +Qo keeps it ASCII).</summary>
        public string Text => Encoding.Latin1.GetString(Stdout);
    }

    /// <summary>Runs a DCMTK tool with a time limit. Arguments are passed without shell interpretation.</summary>
    public static Result Run(string tool, IEnumerable<string> args, int timeoutMs = 60_000)
    {
        var psi = new ProcessStartInfo(RequireDcmtk(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // DCMTK finds its dictionary through the environment or its compiled-in path; keep the environment as is.
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {tool}.");
        var stdout = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} did not finish within {timeoutMs} ms.");
        }
        copy.Wait();
        return new Result(p.ExitCode, stdout.ToArray(), stderr.Result);
    }
}
