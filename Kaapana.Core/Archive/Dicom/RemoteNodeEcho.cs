using System.Diagnostics;
using Kaapana.Dicom;
using Kaapana.Dicom.Network;
using Microsoft.Extensions.Logging;

namespace Kaapana.Core.Archive.Dicom;

/// <summary>The outcome of a C-ECHO "test" of a node: success, the DIMSE status or the error, and the round-trip time (connect to release).</summary>
public sealed record RemoteNodeEchoResult(string AETitle, bool Succeeded, string? Status, string? Error, double RoundTripMilliseconds);

/// <summary>The admin's "Test" button: one C-ECHO to a node as this server's AE title. Failures are results, not exceptions.</summary>
public sealed class RemoteNodeEcho(DicomReceiverService receiver, ILoggerFactory loggerFactory)
{
    /// <summary>A test should answer quickly: a node that does not connect within this is reported as unreachable.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public async Task<RemoteNodeEchoResult> EchoAsync(RemoteNodeEntry node, CancellationToken ct = default)
    {
        var client = new DicomClient(new DicomClientOptions
        {
            Host = node.Host,
            Port = node.Port,
            CalledAE = node.AETitle,
            CallingAE = receiver.AETitle,
            ConnectTimeout = Timeout,
            ResponseTimeout = Timeout,
            AssociationTimeout = Timeout,
            ReleaseTimeout = Timeout,
        }, loggerFactory: loggerFactory);
        var sw = Stopwatch.StartNew();
        try
        {
            var status = await client.EchoAsync(ct).ConfigureAwait(false);
            return new RemoteNodeEchoResult(node.AETitle, status.IsSuccess, status.ToString(), null, sw.Elapsed.TotalMilliseconds);
        }
        catch (Exception ex) when (ex is DicomException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return new RemoteNodeEchoResult(node.AETitle, false, null, ex.Message, sw.Elapsed.TotalMilliseconds);
        }
    }
}
