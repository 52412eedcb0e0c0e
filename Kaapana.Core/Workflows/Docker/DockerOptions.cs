namespace Kaapana.Core.Workflows.Docker;

/// <summary>Settings of the Docker container runner, bound from <c>Kaapana:Docker</c> (env: <c>Kaapana__Docker__*</c>).</summary>
public sealed class DockerOptions
{
    public const string SectionName = "Kaapana:Docker";

    /// <summary>Docker Engine API endpoint: <c>unix:///path/docker.sock</c> or <c>tcp://host:port</c>.</summary>
    public string Endpoint { get; set; } = "unix:///var/run/docker.sock";

    /// <summary>
    /// Identifies this server on the containers it starts (label <c>org.kaapana.instance</c>), so a restarted server finds
    /// its own containers and leaves those of other servers sharing the engine alone. It must survive restarts and
    /// re-creation of the server's own container (whose host name changes), hence a constant default rather than the
    /// machine name; give each server its own value when several share one Docker engine.
    /// </summary>
    public string InstanceId { get; set; } = "kaapana";

    /// <summary>How long an availability check may take; an unreachable engine is reported within this time.</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Time limit of a single non-streaming API call (create, inspect, kill, remove, list).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Run time limit of a container whose spec sets none.</summary>
    public TimeSpan DefaultRunTimeout { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// <c>uid:gid</c> the containers run as. Empty: the server's own uid:gid, or 65534:65534 (nobody) when the server runs
    /// as root. Never root: the runner refuses uid 0. The output folder is handed to this user (chown) when the server is root.
    /// </summary>
    public string? ContainerUser { get; set; }

    /// <summary>Most lines of each stream (stdout, stderr) kept for storage; older lines are dropped (live streaming sees all).</summary>
    public int LogTailLines { get; set; } = 1000;

    /// <summary>Most bytes of each stream kept for storage.</summary>
    public int LogTailBytes { get; set; } = 256 * 1024;

    /// <summary>Longer log lines are cut into pieces of this many bytes, so one newline-free flood cannot grow memory.</summary>
    public int MaxLogLineBytes { get; set; } = 16 * 1024;

    /// <summary>Size of the tmpfs mounted at <c>/tmp</c> when the root filesystem is read-only.</summary>
    public long TmpfsBytes { get; set; } = 1L << 30;

    /// <summary>Most processes a container may run (fork-bomb guard).</summary>
    public long PidsLimit { get; set; } = 4096;

    /// <summary>Docker network a container joins when its algorithm is allowed network access (otherwise <c>none</c>).</summary>
    public string AllowedNetworkMode { get; set; } = "bridge";

    /// <summary>
    /// Where the engine sees the server's folders, when the server itself runs in a container: bind-mount sources are host
    /// paths, so <c>/data/runs/…</c> inside the server container must become e.g.
    /// <c>/var/lib/docker/volumes/kaapana_kaapana-data/_data/runs/…</c>. The longest matching <see cref="HostPathMapping.ServerPath"/>
    /// wins; without a match a path is passed as it is (right when the server runs on the host, or mounts its data folder
    /// at the same path as on the host).
    /// </summary>
    public List<HostPathMapping> HostPathMappings { get; set; } = [];

    /// <summary>Device-request driver for GPUs (<c>--gpus</c> leaves it empty and lets Docker pick, e.g. nvidia).</summary>
    public string GpuDriver { get; set; } = "";
}

/// <summary>A folder as the server sees it and as the Docker engine's host sees it.</summary>
public sealed class HostPathMapping
{
    public string ServerPath { get; set; } = "";
    public string HostPath { get; set; } = "";
}
