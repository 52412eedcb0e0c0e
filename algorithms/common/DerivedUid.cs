using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Kaapana.Algorithms;

/// <summary>
/// UIDs derived from what determines an output (source UIDs, parameters, run): the same input gives the same UIDs, so an
/// item executed again after a crash rewrites the same instances and the archive sees duplicates, not new series.
/// Form: <c>2.25.</c> + a 128-bit integer (PS3.5 B.2), here a name-based UUID (version 8) from SHA-256 of the parts.
/// </summary>
public static class DerivedUid
{
    public static string From(params string[] parts)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts)));
        Span<byte> uuid = hash.AsSpan(0, 16);
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x80); // version 8 (custom)
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80); // RFC 4122 variant
        return "2.25." + new BigInteger(uuid, isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
