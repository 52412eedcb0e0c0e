using System.Buffers;
using System.Text;

namespace Kaapana.Dicom;

/// <summary>Bytes to text for <see cref="Iso2022Codec"/>. Every input byte yields at most one character, and nothing throws.</summary>
internal static class Iso2022Decoder
{
    private const char Replacement = '\uFFFD';

    public static string Decode(Iso2022Codec codec, ReadOnlySpan<byte> bytes, DicomVR vr)
    {
        if (bytes.IsEmpty) return "";
        // Most values are plain ASCII; skip the state machine for them.
        if (bytes.IndexOfAnyInRange((byte)0x80, (byte)0xFF) < 0 && (!codec.Extensions || !bytes.Contains((byte)0x1B)))
            return Encoding.ASCII.GetString(bytes);

        char[]? rented = null;
        Span<char> output = bytes.Length <= 256 ? stackalloc char[bytes.Length] : (rented = ArrayPool<char>.Shared.Rent(bytes.Length));
        try
        {
            int count = Run(codec, bytes, vr, output);
            return new string(output[..count]);
        }
        finally
        {
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        }
    }

    private static int Run(Iso2022Codec codec, ReadOnlySpan<byte> bytes, DicomVR vr, Span<char> output)
    {
        var g0 = codec.InitialG0;
        var g1 = codec.InitialG1;
        int count = 0;
        int i = 0;
        while (i < bytes.Length)
        {
            byte b = bytes[i];
            if (b == 0x1B && codec.Extensions)
            {
                var escape = EscapeSequence.Parse(bytes[i..]);
                switch (escape.Action)
                {
                    case EscapeAction.DesignateG0: g0 = escape.Set!; break;
                    case EscapeAction.DesignateG1: g1 = escape.Set!; break;
                    case EscapeAction.Ignore: break;
                    default: output[count++] = Replacement; break;
                }
                i += escape.Length;
                continue;
            }
            if (b < 0x21 || b == 0x7F)
            {
                // C0 controls, SPACE and DELETE are fixed in ISO 2022 whatever G0 holds.
                output[count++] = (char)b;
                if (ValueDelimiters.IsResettingControl(b)) (g0, g1) = (codec.InitialG0, codec.InitialG1);
                i++;
                continue;
            }
            if (b < 0x80)
            {
                if (g0.IsDoubleByte)
                {
                    if (i + 1 < bytes.Length && bytes[i + 1] is >= 0x21 and <= 0x7E)
                    {
                        output[count++] = g0.Decode(b, bytes[i + 1]);
                        i += 2;
                    }
                    else
                    {
                        output[count++] = Replacement; // truncated pair; the next byte is read on its own
                        i++;
                    }
                    continue;
                }
                char c = g0.Decode(b);
                output[count++] = c;
                // Only a delimiter read as a single byte of an ASCII-compatible set counts (PS3.5 6.1.2.3); 0x5C inside a
                // two-byte character or in katakana designated to G0 is not one.
                if (g0.IsAsciiCompatible && ValueDelimiters.IsResettingDelimiter(c, vr)) (g0, g1) = (codec.InitialG0, codec.InitialG1);
                i++;
                continue;
            }
            var set = g1 ?? codec.FallbackG1;
            if (set is null)
            {
                output[count++] = Replacement;
                i++;
            }
            else if (set.IsDoubleByte)
            {
                if (b >= 0xA1 && b != 0xFF && i + 1 < bytes.Length && bytes[i + 1] is >= 0xA1 and <= 0xFE)
                {
                    output[count++] = set.Decode(b & 0x7F, bytes[i + 1] & 0x7F);
                    i += 2;
                }
                else
                {
                    output[count++] = Replacement;
                    i++;
                }
            }
            else
            {
                // C1 (0x80..0x9F) exists only as part of an ISO 8859 (96-character) right half.
                output[count++] = b >= 0xA0 ? set.Decode(b & 0x7F)
                    : set.Shape == GraphicSetShape.Single96 ? (char)b : Replacement;
                i++;
            }
        }
        return count;
    }
}
