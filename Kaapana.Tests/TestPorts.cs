using System.Net;
using System.Net.Sockets;

namespace Kaapana.Tests;

/// <summary>Ports for servers the tests start (ours, Orthanc, DCMTK SCPs).</summary>
public static class TestPorts
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A TCP port free on <paramref name="address"/> right now and never handed out before in this test run: the kernel may
    /// give the same ephemeral port to two probes in a row (seen: a server's DICOM and HTTP ports collided), and the probe
    /// closes before the server binds.
    /// </summary>
    public static int Free(IPAddress? address = null)
    {
        while (true)
        {
            using var listener = new TcpListener(address ?? IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
                if (HandedOut.Add(port)) return port;
        }
    }
}
