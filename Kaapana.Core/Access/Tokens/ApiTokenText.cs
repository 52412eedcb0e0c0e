using System.Buffers.Text;
using System.Security.Cryptography;

namespace Kaapana.Core.Access.Tokens;

/// <summary>
/// The token text: <c>kpat_</c>, a 12-hex-digit public prefix (the lookup key, safe to show and log), <c>_</c>, and 32 random
/// secret bytes in base64url (43 characters). Fixed lengths, so the base64url <c>_</c> never confuses the parser; the
/// <c>kpat_</c> marker lets secret scanners recognise a leaked token.
/// </summary>
public static class ApiTokenText
{
    public const string Marker = "kpat_";
    public const int PrefixLength = 12;
    public const int SecretBytes = 32;
    private const int SecretLength = 43; // base64url of 32 bytes, unpadded
    public const int Length = 5 + PrefixLength + 1 + SecretLength;

    public static (string Text, string Prefix, string SecretHash) Generate()
    {
        string prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(PrefixLength / 2));
        Span<byte> secret = stackalloc byte[SecretBytes];
        RandomNumberGenerator.Fill(secret);
        string text = $"{Marker}{prefix}_{Base64Url.EncodeToString(secret)}";
        string hash = Convert.ToHexStringLower(SHA256.HashData(secret));
        CryptographicOperations.ZeroMemory(secret);
        return (text, prefix, hash);
    }

    /// <summary>Splits a presented token; false for anything not shaped like one of ours.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out string prefix, out byte[] secretHash)
    {
        prefix = "";
        secretHash = [];
        if (text.Length != Length || !text.StartsWith(Marker, StringComparison.Ordinal) || text[Marker.Length + PrefixLength] != '_') return false;
        var hex = text.Slice(Marker.Length, PrefixLength);
        foreach (char c in hex)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        }
        Span<byte> secret = stackalloc byte[SecretBytes + 2];
        if (!Base64Url.TryDecodeFromChars(text[(Marker.Length + PrefixLength + 1)..], secret, out int written) || written != SecretBytes) return false;
        prefix = hex.ToString();
        secretHash = SHA256.HashData(secret[..SecretBytes]);
        CryptographicOperations.ZeroMemory(secret);
        return true;
    }

    /// <summary>Constant-time comparison of a presented secret's hash with the stored one.</summary>
    public static bool HashMatches(byte[] presented, string storedHex)
    {
        if (storedHex.Length != 64) return false;
        Span<byte> stored = stackalloc byte[32];
        if (Convert.FromHexString(storedHex, stored, out _, out int written) != System.Buffers.OperationStatus.Done || written != 32) return false;
        return CryptographicOperations.FixedTimeEquals(presented, stored);
    }
}
