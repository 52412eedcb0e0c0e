using System.Diagnostics;
using System.Net;

namespace Kaapana.Tests.Interop;

/// <summary>
/// A private network namespace joined to the host by one veth pair on its own /30: the host side is <see cref="HostAddress"/>
/// (10.x.y.1), the namespace side <see cref="PeerAddress"/> (10.x.y.2). A peer started with <see cref="Start"/> runs inside,
/// where it may bind 0.0.0.0 (Orthanc has no bind-address option) and still be reachable only over this host-only link:
/// the namespace has no other interface but its loopback and no route elsewhere, and nothing is forwarded (the link is
/// directly connected, so /proc/sys/net/ipv4/ip_forward is irrelevant and left alone).
/// <para>
/// Why not <c>unshare -n</c> (FIELD-NOTES)? That namespace has only its own loopback, so only clients started inside it can
/// reach the peer; our in-process .NET clients and SCPs (the test process itself) cannot. The veth pair gives the test process
/// an address the peer can call back (C-MOVE destinations listen on <see cref="HostAddress"/>).
/// </para>
/// Requires root (CAP_NET_ADMIN) and iproute2. Namespaces are named <c>kpt-PID-N</c>; ones left by a crashed run (PID gone)
/// are removed, with the processes inside them, the first time one is created.
/// </summary>
public sealed class TestNetworkNamespace : IAsyncDisposable
{
    public const string Prefix = "kpt-";
    private const string LinkPrefix = "kpt";

    private static int s_counter = -1;
    private static readonly Lazy<Task> s_staleCleanup = new(DeleteStaleAsync);
    private static readonly object s_liveLock = new();
    private static readonly HashSet<TestNetworkNamespace> s_live = [];
    private static bool s_exitHookInstalled;

    private readonly List<PeerProcess> _processes = [];
    private int _disposed;

    private TestNetworkNamespace(string name, string hostInterface, IPAddress host, IPAddress peer)
    {
        Name = name;
        HostInterface = hostInterface;
        HostAddress = host;
        PeerAddress = peer;
    }

    public string Name { get; }
    public string HostInterface { get; }

    /// <summary>The host's end of the link (in the test process's namespace): bind SCPs here for peers to call back.</summary>
    public IPAddress HostAddress { get; }

    /// <summary>The namespace's end of the link: where the peer inside is reached.</summary>
    public IPAddress PeerAddress { get; }

    private static string Ip => Peers.Require("ip", "iproute2");

    public static async Task<TestNetworkNamespace> CreateAsync()
    {
        if (!IsRoot())
            throw new InvalidOperationException("Creating a network namespace needs root (CAP_NET_ADMIN); run the interop tests as root, as CI does.");
        await s_staleCleanup.Value;

        int pid = Environment.ProcessId;
        var used = (await IpAsync(["-4", "-o", "addr", "show"])).Stdout + (await IpAsync(["-4", "route", "show", "table", "all"])).Stdout;
        for (int attempt = 0; attempt < 256; attempt++)
        {
            int n = Interlocked.Increment(ref s_counter);
            int b = 200 + (pid + n / 256) % 50, c = n % 256;
            var prefix = $"10.{b}.{c}.";
            if (used.Contains(prefix, StringComparison.Ordinal)) continue;

            var ns = new TestNetworkNamespace($"{Prefix}{pid}-{n}", $"{LinkPrefix}{pid}h{n}", IPAddress.Parse(prefix + "1"), IPAddress.Parse(prefix + "2"));
            var peerInterface = $"{LinkPrefix}{pid}n{n}";
            Register(ns);
            try
            {
                await IpOrThrowAsync(["netns", "add", ns.Name]);
                await IpOrThrowAsync(["link", "add", ns.HostInterface, "type", "veth", "peer", "name", peerInterface, "netns", ns.Name]);
                await IpOrThrowAsync(["addr", "add", $"{ns.HostAddress}/30", "dev", ns.HostInterface]);
                await IpOrThrowAsync(["link", "set", ns.HostInterface, "up"]);
                await IpOrThrowAsync(["-n", ns.Name, "addr", "add", $"{ns.PeerAddress}/30", "dev", peerInterface]);
                await IpOrThrowAsync(["-n", ns.Name, "link", "set", peerInterface, "up"]);
                await IpOrThrowAsync(["-n", ns.Name, "link", "set", "lo", "up"]);
                return ns;
            }
            catch
            {
                await ns.DisposeAsync();
                throw;
            }
        }
        throw new InvalidOperationException("No free 10.200-249.x.0/30 subnet for a test network namespace.");
    }

    /// <summary>Starts <paramref name="program"/> inside the namespace (with TCP_NODELAY=1); it is killed when the namespace is disposed.</summary>
    public PeerProcess Start(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var p = PeerProcess.Start(Ip, ["netns", "exec", Name, program, .. args], environment, workingDirectory);
        lock (_processes) _processes.Add(p);
        return p;
    }

    /// <summary>Runs a program to completion inside the namespace.</summary>
    public Task<Peers.Result> RunAsync(string program, IEnumerable<string> args, TimeSpan? timeout = null) =>
        Peers.RunAsync(Ip, ["netns", "exec", Name, program, .. args], timeout);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        PeerProcess[] processes;
        lock (_processes) processes = [.. _processes];
        foreach (var p in processes) await p.DisposeAsync();
        await TeardownAsync(Name, HostInterface);
        lock (s_liveLock) s_live.Remove(this);
    }

    private static async Task TeardownAsync(string name, string hostInterface)
    {
        // Anything still inside (a child our PeerProcess did not know about) would keep the namespace alive.
        KillProcessesIn(name);
        await IpAsync(["netns", "del", name]);
        // Normally gone with the namespace; a namespace kept alive by a process makes it linger.
        await IpAsync(["link", "del", hostInterface]);
    }

    private static void KillProcessesIn(string name)
    {
        var r = RunIp(["netns", "pids", name]);
        foreach (var line in r.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(line, out var pid)) continue;
            try
            {
                using var p = Process.GetProcessById(pid);
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (ArgumentException)
            {
                // already gone
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    /// <summary>Removes namespaces and host links of earlier test runs whose process no longer exists.</summary>
    private static async Task DeleteStaleAsync()
    {
        var list = (await IpAsync(["netns", "list"])).Stdout;
        foreach (var line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ', 2)[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            var parts = name[Prefix.Length..].Split('-');
            if (parts.Length != 2 || !int.TryParse(parts[0], out var owner) || IsAlive(owner)) continue;
            KillProcessesIn(name);
            await IpAsync(["netns", "del", name]);
        }
        var links = (await IpAsync(["-o", "link", "show"])).Stdout;
        foreach (var line in links.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "12: kpt1234h0@if11: <...>"
            var fields = line.Split(':', 3);
            if (fields.Length < 2) continue;
            var ifname = fields[1].Trim().Split('@')[0];
            if (!ifname.StartsWith(LinkPrefix, StringComparison.Ordinal)) continue;
            var digits = new string(ifname[LinkPrefix.Length..].TakeWhile(char.IsAsciiDigit).ToArray());
            if (int.TryParse(digits, out var owner) && !IsAlive(owner)) await IpAsync(["link", "del", ifname]);
        }
    }

    private static bool IsAlive(int pid) => pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}");

    private static bool IsRoot() => File.Exists("/proc/self/status")
        && File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "0";

    private static void Register(TestNetworkNamespace ns)
    {
        lock (s_liveLock)
        {
            s_live.Add(ns);
            if (s_exitHookInstalled) return;
            s_exitHookInstalled = true;
            // A test run that ends without disposing its fixtures (e.g. a crash in another test's cleanup) still removes ours.
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                TestNetworkNamespace[] left;
                lock (s_liveLock) left = [.. s_live];
                foreach (var n in left)
                {
                    foreach (var p in n._processes) p.DisposeAsync().AsTask().Wait(5000);
                    KillProcessesIn(n.Name);
                    RunIp(["netns", "del", n.Name]);
                    RunIp(["link", "del", n.HostInterface]);
                }
            };
        }
    }

    private static Task<Peers.Result> IpAsync(string[] args) => Peers.RunAsync(Ip, args, TimeSpan.FromSeconds(20));

    private static async Task IpOrThrowAsync(string[] args) => (await IpAsync(args)).EnsureSuccess("ip " + string.Join(' ', args));

    private static string RunIp(string[] args)
    {
        var psi = new ProcessStartInfo(Ip) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit(10_000);
        return output;
    }

    public override string ToString() => $"{Name} ({HostAddress} <-> {PeerAddress})";
}
