namespace Kaapana.Dicom.Imaging;

/// <summary>Small vector helpers for patient-coordinate geometry (Image Position / Orientation (Patient)).</summary>
public static class Geometry
{
    public static double[] Cross(ReadOnlySpan<double> a, ReadOnlySpan<double> b) =>
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/// <summary>New UIDs under the UUID-derived root 2.25 (PS3.5 B.2).</summary>
public static class DicomUidGenerator
{
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes, bigEndian: true, out _);
        var value = new System.Numerics.BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        return "2.25." + value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
