namespace Kaapana.Server.DicomWeb;

/// <summary>QIDO-RS settings, bound from <c>Kaapana:DicomWeb:Qido</c> (env <c>Kaapana__DicomWeb__Qido__MaxLimit</c>).</summary>
public sealed class QidoOptions
{
    public const string SectionName = "Kaapana:DicomWeb:Qido";

    /// <summary>The largest <c>limit</c> a client may ask for (more: 400). A search without <c>limit</c> returns at most <see cref="DefaultLimit"/>.</summary>
    public int MaxLimit { get; set; } = 10_000;

    /// <summary>Results of a search without <c>limit</c>; null: <see cref="MaxLimit"/>. Truncation is announced with a Warning header.</summary>
    public int? DefaultLimit { get; set; }
}
