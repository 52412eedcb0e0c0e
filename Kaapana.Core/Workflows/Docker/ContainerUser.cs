using System.Globalization;
using System.Runtime.InteropServices;

namespace Kaapana.Core.Workflows.Docker;

/// <summary>
/// The non-root uid:gid containers run as, and the hand-over of the output folder to it. A server running as an ordinary
/// user runs containers as itself, so their outputs are its own files; a server running as root (the Docker image, CI)
/// runs them as nobody (65534) and chowns each output folder to that user, since root can read the results anyway.
/// </summary>
public sealed record ContainerUser(uint Uid, uint Gid)
{
    public const uint Nobody = 65534;

    public override string ToString() => $"{Uid}:{Gid}";

    /// <summary>From <see cref="DockerOptions.ContainerUser"/> (<c>uid:gid</c>), else derived from the server's own identity.</summary>
    public static ContainerUser Resolve(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var parts = configured.Split(':');
            if (parts.Length != 2 || !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                || !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                throw new InvalidOperationException($"Kaapana:Docker:ContainerUser must be numeric 'uid:gid', not '{configured}'.");
            }
            if (uid == 0)
            {
                throw new InvalidOperationException("Kaapana:Docker:ContainerUser must not be root (uid 0): algorithms run unprivileged.");
            }
            return new ContainerUser(uid, gid);
        }
        var server = Server;
        return server.Uid == 0 ? new ContainerUser(Nobody, Nobody) : server;
    }

    /// <summary>The effective uid:gid of this process.</summary>
    public static ContainerUser Server => new(Native.geteuid(), Native.getegid());

    /// <summary>Creates the output folder and makes it writable for this user (chown when the server is root).</summary>
    public void PrepareOutputDirectory(string path)
    {
        Directory.CreateDirectory(path);
        if (Server.Uid == 0 && Native.chown(path, Uid, Gid) != 0)
        {
            throw new IOException($"Could not hand the output folder {path} to {this}: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern uint geteuid();

        [DllImport("libc", SetLastError = true)]
        public static extern uint getegid();

        [DllImport("libc", SetLastError = true)]
        public static extern int chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);
    }
}
