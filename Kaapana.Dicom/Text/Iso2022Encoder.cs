using System.Text;

namespace Kaapana.Dicom;

/// <summary>
/// Text to bytes for <see cref="Iso2022Codec"/>. Escape sequences are written only when a character needs another set, and
/// G0 is switched back to the initial set before every reset point and at the end of the value (PS3.5 6.1.2.5.3).
/// G1 needs no switching back: readers reset it at the same points, which is why writers re-designate it per component.
/// </summary>
internal static class Iso2022Encoder
{
    public static byte[] Encode(Iso2022Codec codec, string value, DicomVR vr)
    {
        if (string.IsNullOrEmpty(value)) return [];
        if (codec.InitialG0.IsAsciiCompatible && Ascii.IsValid(value) && (!codec.Extensions || !value.Contains('\u001B')))
            return Encoding.ASCII.GetBytes(value);
        var writer = new Writer(codec, vr, value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsSurrogate(c))
            {
                // No set DICOM allows with ISO 2022 holds characters beyond the BMP.
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
                writer.Graphic('?');
            }
            else
            {
                writer.Char(c);
            }
        }
        writer.Finish();
        return writer.ToArray();
    }

    private sealed class Writer(Iso2022Codec codec, DicomVR vr, int capacity)
    {
        private readonly List<byte> _bytes = new(capacity + 8);
        private GraphicCharacterSet _g0 = codec.InitialG0;
        private GraphicCharacterSet? _g1 = codec.InitialG1;

        public void Char(char c)
        {
            if (c == '\u001B' && codec.Extensions)
            {
                Graphic('?'); // a raw ESC would be read as the start of an escape sequence
                return;
            }
            if (c < 0x21 || c == 0x7F)
            {
                // Controls and SPACE: return to the initial G0 first, as DICOM writers (and the Annex H examples) do.
                ToInitialG0();
                _bytes.Add((byte)c);
                if (ValueDelimiters.IsResettingControl(c)) _g1 = codec.InitialG1;
                return;
            }
            if (ValueDelimiters.IsResettingDelimiter(c, vr))
            {
                ToInitialG0();
                _bytes.Add((byte)c);
                _g1 = codec.InitialG1;
                return;
            }
            Graphic(c);
        }

        public void Graphic(char c)
        {
            if (!TryGraphic(c)) TryGraphic('?');
        }

        public void Finish() => ToInitialG0();

        public byte[] ToArray() => [.. _bytes];

        private bool TryGraphic(char c)
        {
            // Prefer what is already designated, then the initial sets, then the declared ones in (0008,0005) order.
            if (TryIn(_g0, c) || TryIn(_g1, c) || TryIn(codec.InitialG0, c) || TryIn(codec.InitialG1, c)) return true;
            if (!codec.Extensions) return false;
            foreach (var set in codec.Declared)
                if (TryIn(set, c)) return true;
            return false;
        }

        private bool TryIn(GraphicCharacterSet? set, char c)
        {
            if (set is null || !set.TryEncode(c, out int code)) return false;
            if (set.UsesG1)
            {
                if (set != _g1)
                {
                    if (!codec.Extensions) return false;
                    _bytes.AddRange(set.G1Designation);
                    _g1 = set;
                }
                Emit(set, code, 0x80);
            }
            else
            {
                if (set != _g0)
                {
                    if (!codec.Extensions) return false;
                    _bytes.AddRange(set.G0Designation);
                    _g0 = set;
                }
                Emit(set, code, 0);
            }
            return true;
        }

        private void Emit(GraphicCharacterSet set, int code, int highBit)
        {
            if (set.IsDoubleByte) _bytes.Add((byte)((code >> 8) | highBit));
            _bytes.Add((byte)((code & 0xFF) | highBit));
        }

        private void ToInitialG0()
        {
            if (_g0 == codec.InitialG0) return;
            _bytes.AddRange(codec.InitialG0.G0Designation);
            _g0 = codec.InitialG0;
        }
    }
}
