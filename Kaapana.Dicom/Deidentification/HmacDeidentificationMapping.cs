using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Kaapana.Dicom.Deidentification;

/// <summary>
/// A stateless <see cref="IDeidentificationMapping"/>: every value is derived from an HMAC-SHA256 of the original under a key
/// for the target (itself an HMAC of a site secret and the target name, e.g. the project id). UIDs become <c>2.25.</c> followed by
/// the decimal form of a 128-bit value shaped as an RFC 9562 version-8 UUID (PS3.5 B.2).
/// <para>
/// Trade-off: no table to store, back up or share between workers, and re-running a job gives identical output; but the
/// mapping cannot be reversed from the output (re-identification means recomputing from candidate originals), one mapping cannot
/// be revoked or changed on its own, and whoever holds the secret can confirm a guessed original (UIDs and patient IDs are
/// guessable), so the secret is as sensitive as the originals. A table-backed implementation of the interface is the
/// alternative where reversal or audited pseudonym assignment is required.
/// </para>
/// </summary>
public sealed class HmacDeidentificationMapping : IDeidentificationMapping
{
    private const string Base32 = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // no I, O, 0, 1: read aloud and typed without mix-ups
    private readonly byte[] _key;
    private readonly string _prefix;
    private readonly int _minShift, _maxShift;

    /// <param name="secret">Site secret, at least 16 bytes; keep it out of the data and the logs.</param>
    /// <param name="target">The target the output goes to (e.g. a project id): each target gets its own UIDs and pseudonyms.</param>
    /// <param name="pseudonymPrefix">Start of generated patient IDs and names.</param>
    /// <param name="minShiftDays">Date shifts are drawn per patient from [-maxShiftDays, -minShiftDays].</param>
    public HmacDeidentificationMapping(ReadOnlySpan<byte> secret, string target, string pseudonymPrefix = "ANON", int minShiftDays = 365, int maxShiftDays = 3650)
    {
        if (secret.Length < 16) throw new ArgumentException("The secret must be at least 16 bytes.", nameof(secret));
        ArgumentNullException.ThrowIfNull(target);
        if (minShiftDays < 0 || maxShiftDays < minShiftDays) throw new ArgumentOutOfRangeException(nameof(maxShiftDays), "Need 0 <= minShiftDays <= maxShiftDays.");
        _key = HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("kaapana-deid-target\0" + target));
        _prefix = pseudonymPrefix;
        _minShift = minShiftDays;
        _maxShift = maxShiftDays;
    }

    private byte[] Hash(string purpose, string value) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(purpose + "\0" + value));

    public string MapUid(string originalUid)
    {
        var h = Hash("uid", originalUid);
        Span<byte> uuid = h.AsSpan(0, 16);
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x80); // version 8: custom
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80); // RFC 9562 variant
        return "2.25." + new BigInteger(uuid, isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public PatientPseudonym MapPatient(string patientKey)
    {
        var h = Hash("patient", patientKey);
        // 12 base-32 characters = 60 bits: collisions are unlikely below ~10^8 patients per target.
        var code = new StringBuilder(12);
        ulong bits = BitConverter.ToUInt64(h, 0);
        for (int i = 0; i < 12; i++, bits >>= 5) code.Append(Base32[(int)(bits & 31)]);
        // The name as family^given: a PN without a component separator is the retired form (dciodvfy warns).
        return new PatientPseudonym($"{_prefix}-{code}", $"{_prefix}^{code}");
    }

    public int DateShiftDays(string patientKey)
    {
        var h = Hash("date", patientKey);
        var span = (uint)(_maxShift - _minShift + 1);
        return -(int)(_minShift + BitConverter.ToUInt32(h, 0) % span);
    }
}
