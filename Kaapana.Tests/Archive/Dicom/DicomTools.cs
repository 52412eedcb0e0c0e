using System.Diagnostics;
using System.Text;
using Kaapana.Tests.Server;

namespace Kaapana.Tests.Archive.Dicom;

/// <summary>DCMTK command line tools (Debian package <c>dcmtk</c>), run with TCP_NODELAY=1 (see FIELD-NOTES.md).</summary>
internal static partial class DicomTools
{
    [System.Text.RegularExpressions.GeneratedRegex(@"\s+#[^\[\]]*$")]
    private static partial System.Text.RegularExpressions.Regex TrailingComment();

    [System.Text.RegularExpressions.GeneratedRegex(@"\((Sequence|Item) with (?:undefined|explicit) length")]
    private static partial System.Text.RegularExpressions.Regex EncodingDetails();

    public sealed record Result(int ExitCode, string Output)
    {
        public override string ToString() => $"exit {ExitCode}:{Environment.NewLine}{Output}";
    }

    /// <summary>Full path of a DCMTK tool; fails (never skips) naming the package when it is missing.</summary>
    public static string Find(string tool)
    {
        var path = RepoPaths.FindOnPath(tool);
        Assert.True(path is not null, $"'{tool}' not found on PATH: install the Debian package 'dcmtk' (apt-get install dcmtk).");
        return path!;
    }

    public static Process Start(string tool, IEnumerable<string> args, Action<string>? onLine = null, StringBuilder? output = null)
    {
        var psi = new ProcessStartInfo(Find(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["TCP_NODELAY"] = "1";
        var p = new Process { StartInfo = psi };
        void Line(string? l)
        {
            if (l is null) return;
            if (output is not null) lock (output) output.AppendLine(l);
            onLine?.Invoke(l);
        }
        p.OutputDataReceived += (_, e) => Line(e.Data);
        p.ErrorDataReceived += (_, e) => Line(e.Data);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    public static async Task<Result> RunAsync(string tool, params string[] args)
    {
        var output = new StringBuilder();
        using var p = Start(tool, args, output: output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{tool} {string.Join(' ', args)} did not finish within 120 s:{Environment.NewLine}{output}");
        }
        p.WaitForExit(); // drain output
        lock (output) return new Result(p.ExitCode, output.ToString());
    }

    /// <summary>dcmdump of the data set only (meta information header dropped), for comparing stored and sent files.</summary>
    public static async Task<string> DumpDatasetAsync(string file)
    {
        var r = await RunAsync("dcmdump", "-q", file);
        Assert.True(r.ExitCode == 0, $"dcmdump {file}: {r}");
        var text = r.Output;
        int i = text.IndexOf("# Dicom-Data-Set", StringComparison.Ordinal);
        Assert.True(i >= 0, $"dcmdump {file}: no data set section:{Environment.NewLine}{text}");
        // Skip the header line and the "# Used TransferSyntax" line: the comparison is about content, not encoding. storescu
        // re-encodes what it sends, so encoding details are normalised: sequence/item length forms and their delimiters,
        // the length comments, and Data Set Trailing Padding (FFFC,FFFC), which it does not send (CT_small.dcm has some).
        return string.Join('\n', text[i..].Split('\n').Skip(2)
            .Where(l => !l.StartsWith("(fffc,fffc)", StringComparison.Ordinal) && !l.Contains("DelimitationItem", StringComparison.Ordinal))
            .Select(l => EncodingDetails().Replace(TrailingComment().Replace(l.TrimEnd(), ""), "($1")));
    }

    /// <summary>
    /// Reads storescu -v output: the files whose C-STORE-RSP said Success ("Sending file: X" ... "Received Store Response (Success)").
    /// </summary>
    public sealed class StoreScuLog
    {
        private readonly object _gate = new();
        private string? _current;
        private readonly List<string> _acknowledged = [];

        public void OnLine(string line)
        {
            lock (_gate)
            {
                const string sending = "Sending file: ";
                int i = line.IndexOf(sending, StringComparison.Ordinal);
                if (i >= 0) _current = line[(i + sending.Length)..].Trim();
                else if (line.Contains("Received Store Response (Success)", StringComparison.Ordinal) && _current is not null)
                {
                    _acknowledged.Add(_current);
                    _current = null;
                }
            }
        }

        public IReadOnlyList<string> Acknowledged
        {
            get { lock (_gate) return _acknowledged.ToList(); }
        }

        public int Count
        {
            get { lock (_gate) return _acknowledged.Count; }
        }
    }
}
