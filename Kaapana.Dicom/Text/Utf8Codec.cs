using System.Text;

namespace Kaapana.Dicom;

/// <summary>ISO_IR 192: UTF-8 for the whole value; invalid sequences decode to U+FFFD, lone surrogates encode as '?'.</summary>
internal sealed class Utf8Codec : ITextCodec
{
    private static readonly Encoding Utf8 =
        Encoding.GetEncoding(Encoding.UTF8.CodePage, new EncoderReplacementFallback("?"), new DecoderReplacementFallback("\uFFFD"));

    public string Decode(ReadOnlySpan<byte> bytes, DicomVR vr) => Utf8.GetString(bytes);

    public byte[] Encode(string value, DicomVR vr) => Utf8.GetBytes(value);
}
