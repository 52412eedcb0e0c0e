using System.Net;

namespace Kaapana.Tests.Interop;

/// <summary>
/// One Orthanc shared by the tests of a class (<c>IClassFixture&lt;OrthancFixture&gt;</c>). It knows three AEs on the host side
/// of its namespace link: <see cref="ScuAeTitle"/> (our SCU), <see cref="StoreScpAeTitle"/> (a C-MOVE destination / C-STORE
/// target the test runs on <see cref="StoreScpEndpoint"/>), and <see cref="DcmtkAeTitle"/> (DCMTK tools). Tests that change
/// Orthanc's content should call <see cref="OrthancPeer.DeleteAllAsync"/> first.
/// </summary>
public sealed class OrthancFixture : IAsyncLifetime
{
    public const string ScuAeTitle = "KAAPANA_SCU";
    public const string StoreScpAeTitle = "KAAPANA_SCP";
    public const string DcmtkAeTitle = "DCMTK";

    private OrthancPeer? _peer;

    public OrthancPeer Orthanc => _peer ?? throw new InvalidOperationException("Orthanc is not started.");

    /// <summary>Where the test's SCP must listen for Orthanc to reach it as <see cref="StoreScpAeTitle"/>.</summary>
    public DicomEndpoint StoreScpEndpoint { get; private set; } = new("", 0, StoreScpAeTitle);

    /// <summary>The host side of the link (bind SCPs here).</summary>
    public IPAddress HostAddress => Orthanc.Network.HostAddress;

    public async Task InitializeAsync()
    {
        _peer = await OrthancPeer.StartAsync(ns =>
        {
            var host = ns.HostAddress.ToString();
            var scpPort = OrthancPeer.FreePort(ns.HostAddress);
            StoreScpEndpoint = new DicomEndpoint(host, scpPort, StoreScpAeTitle);
            return new OrthancOptions
            {
                Modalities =
                [
                    new OrthancModality(ScuAeTitle, host, 104),
                    new OrthancModality(StoreScpAeTitle, host, scpPort),
                    new OrthancModality(DcmtkAeTitle, host, 104),
                ],
            };
        });
    }

    public async Task DisposeAsync()
    {
        if (_peer != null) await _peer.DisposeAsync();
    }
}
