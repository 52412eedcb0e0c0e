namespace Kaapana.Dicom.Network;

/// <summary>
/// Settings of a <see cref="DicomServer"/>; a plain class, bindable from configuration (arrays, so a configured list replaces
/// the default instead of being appended to it; time spans as "hh:mm:ss").
/// </summary>
public sealed class DicomServerOptions
{
    /// <summary>IP address to listen on: "0.0.0.0" (all IPv4), "::" (IPv6 and IPv4), "127.0.0.1", ...</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>TCP port; 0 picks a free one (see <see cref="DicomServer.LocalEndPoint"/>).</summary>
    public int Port { get; set; } = 11112;

    /// <summary>Called AE titles this server answers to (e.g. one per project). Empty: any.</summary>
    public string[] AETitles { get; set; } = [];

    /// <summary>Calling AE titles allowed to associate. Empty: any.</summary>
    public string[] AllowedCallingAETitles { get; set; } = [];

    /// <summary>Concurrent connections served; more get A-ASSOCIATE-RJ transient "local-limit-exceeded".</summary>
    public int MaxAssociations { get; set; } = 64;

    /// <summary>Maximum P-DATA-TF length announced to peers (0 = unlimited).</summary>
    public uint MaxPduLength { get; set; } = 256 * 1024;

    /// <summary>Any incoming PDU above this (and above <see cref="MaxPduLength"/>) aborts the association before it is read.</summary>
    public uint MaxIncomingPduLength { get; set; } = 16 * 1024 * 1024;

    /// <summary>ARTIM: how long a new connection may take to send A-ASSOCIATE-RQ, and to close after release/reject/abort.</summary>
    public TimeSpan ArtimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An established association with no traffic and no operation running for this long is aborted.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a release we initiate may take.</summary>
    public TimeSpan ReleaseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>On stop, how long running associations may go on before they are aborted.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Transfer syntax UIDs in order of preference: for each context the first of these the peer proposed is accepted.</summary>
    public string[] TransferSyntaxes { get; set; } = [DicomTransferSyntax.ExplicitVRLittleEndian.Uid, DicomTransferSyntax.ImplicitVRLittleEndian.Uid];

    /// <summary>
    /// For storage contexts, accept compressed (encapsulated) transfer syntaxes as the peer sends them: when the peer's first
    /// proposal is compressed it wins over <see cref="TransferSyntaxes"/>, so stored data stays exactly as the modality made it.
    /// </summary>
    public bool AcceptCompressedForStorage { get; set; } = true;

    /// <summary>Storage SOP classes to accept; empty: every Storage SOP Class of the UID registry.</summary>
    public string[] StorageSopClasses { get; set; } = [];

    /// <summary>Further (e.g. private) storage SOP classes to accept on top of <see cref="StorageSopClasses"/>.</summary>
    public string[] AdditionalStorageSopClasses { get; set; } = [];

    /// <summary>Listen backlog.</summary>
    public int Backlog { get; set; } = 128;

    /// <summary>
    /// Each association reads on a thread of its own with blocking socket calls (true, the default): the kernel wakes that
    /// thread when a PDU arrives, and a C-STORE is received, stored and answered there, as DCMTK's <c>storescp</c> does. That cuts
    /// the latency per message (one association's C-STORE rate) and the CPU spent on thread hand-offs. It costs a thread per open
    /// association (at most <see cref="MaxAssociations"/>). False: asynchronous socket I/O on the shared thread pool.
    /// </summary>
    public bool ThreadPerAssociation { get; set; } = true;

    /// <summary>The storage SOP classes this configuration accepts.</summary>
    public IEnumerable<string> EffectiveStorageSopClasses =>
        (StorageSopClasses.Length > 0 ? StorageSopClasses : DicomUidRegistry.StorageSopClasses.Select(u => u.Uid))
        .Concat(AdditionalStorageSopClasses).Distinct();

    internal DicomAssociationSettings ToSettings() => new()
    {
        MaxPduLength = MaxPduLength,
        MaxIncomingPduLength = MaxIncomingPduLength,
        ArtimTimeout = ArtimTimeout,
        IdleTimeout = IdleTimeout <= TimeSpan.Zero ? Timeout.InfiniteTimeSpan : IdleTimeout,
        ReleaseTimeout = ReleaseTimeout,
        ThreadPerAssociation = ThreadPerAssociation,
    };
}

/// <summary>Settings of a <see cref="DicomClient"/>; bindable from configuration.</summary>
public sealed class DicomClientOptions
{
    public string Host { get; set; } = "localhost";
    public int Port { get; set; } = 104;
    public string CallingAE { get; set; } = "KAAPANA";
    public string CalledAE { get; set; } = "ANY-SCP";

    /// <summary>Maximum P-DATA-TF length announced to the peer (0 = unlimited).</summary>
    public uint MaxPduLength { get; set; } = 256 * 1024;

    public uint MaxIncomingPduLength { get; set; } = 16 * 1024 * 1024;
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the peer may take to answer A-ASSOCIATE-RQ; also ARTIM while closing.</summary>
    public TimeSpan AssociationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan ReleaseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for each response (a pending C-FIND/C-MOVE response restarts it); the association is aborted after it.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromMinutes(10);

    internal DicomAssociationSettings ToSettings() => new()
    {
        MaxPduLength = MaxPduLength,
        MaxIncomingPduLength = MaxIncomingPduLength,
        ArtimTimeout = AssociationTimeout,
        ReleaseTimeout = ReleaseTimeout,
        ResponseTimeout = ResponseTimeout <= TimeSpan.Zero ? Timeout.InfiniteTimeSpan : ResponseTimeout,
    };
}
