namespace Kaapana.Dicom;

/// <summary>Byte/string conversion for one resolved Specific Character Set. Implementations never throw on malformed input.</summary>
internal interface ITextCodec
{
    string Decode(ReadOnlySpan<byte> bytes, DicomVR vr);

    byte[] Encode(string value, DicomVR vr);
}
