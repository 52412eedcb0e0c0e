namespace Kaapana.Dicom.Network.Query;

/// <summary>
/// Settings of the Q/R SCP services. Register an instance in the server's service provider to change them; without one the
/// defaults apply. A plain class with settable properties, bindable from configuration.
/// </summary>
public sealed class DicomQueryRetrieveOptions
{
    public static DicomQueryRetrieveOptions Default { get; } = new();

    /// <summary>How C-FIND keys are interpreted (PN case, combined date-time, multiple values, supported keys).</summary>
    public QueryMatchOptions MatchOptions { get; set; } = QueryMatchOptions.Default;

    /// <summary>
    /// Accept C-FIND identifiers without the unique keys of the levels above the query level (relational-style), as Orthanc and
    /// most archives do. False follows baseline hierarchical search strictly and answers A900.
    /// </summary>
    public bool AllowRelationalQueries { get; set; } = true;

    /// <summary>C-MOVE sub-associations: connect timeout.</summary>
    public TimeSpan MoveConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest wait for the C-STORE-RSP of one sub-operation (C-MOVE and C-GET); the sub-operation then fails.</summary>
    public TimeSpan SubOperationResponseTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>C-MOVE sub-associations: maximum PDU length we announce.</summary>
    public uint MoveMaxPduLength { get; set; } = 256 * 1024;
}
