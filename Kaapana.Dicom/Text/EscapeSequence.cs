namespace Kaapana.Dicom;

/// <summary>What an ISO 2022 escape sequence asks the decoder to do.</summary>
internal enum EscapeAction : byte
{
    /// <summary>Not a complete escape sequence: ESC and its intermediate bytes are malformed data.</summary>
    Malformed,
    /// <summary>Designates <see cref="EscapeSequence.Set"/> to G0.</summary>
    DesignateG0,
    /// <summary>Designates <see cref="EscapeSequence.Set"/> to G1.</summary>
    DesignateG1,
    /// <summary>Designation to G2/G3: DICOM never invokes those, so it has no effect on the bytes that follow.</summary>
    Ignore,
    /// <summary>A well-formed escape sequence that is not a designation (e.g. a single shift): unsupported.</summary>
    Unsupported,
}

/// <summary>Parses ISO 2022 escape sequences: ESC, intermediate bytes 02/00..02/15, one final byte 03/00..07/14 (ISO 2022 13.1).</summary>
internal readonly record struct EscapeSequence(EscapeAction Action, int Length, GraphicCharacterSet? Set)
{
    public static EscapeSequence Parse(ReadOnlySpan<byte> bytes)
    {
        int j = 1;
        while (j < bytes.Length && bytes[j] is >= 0x20 and <= 0x2F) j++;
        // Truncated or broken: ESC and its intermediates are one malformed unit; whatever follows is read normally.
        if (j >= bytes.Length || bytes[j] is < 0x30 or > 0x7E) return new(EscapeAction.Malformed, j, null);
        byte final = bytes[j];
        int length = j + 1;
        var intermediates = bytes[1..j];
        return intermediates switch
        {
            [(byte)'('] => new(EscapeAction.DesignateG0, length, GraphicCharacterSets.ByFinalByte(GraphicSetShape.Single94, final)),
            [(byte)')'] => new(EscapeAction.DesignateG1, length, GraphicCharacterSets.ByFinalByte(GraphicSetShape.Single94, final)),
            [(byte)'-'] => new(EscapeAction.DesignateG1, length, GraphicCharacterSets.ByFinalByte(GraphicSetShape.Single96, final)),
            [(byte)'$'] when final is (byte)'@' or (byte)'A' or (byte)'B'
                => new(EscapeAction.DesignateG0, length, GraphicCharacterSets.ByFinalByte(GraphicSetShape.Double94, final)),
            [(byte)'$', (byte)'('] => new(EscapeAction.DesignateG0, length, GraphicCharacterSets.ByFinalByte(GraphicSetShape.Double94, final)),
            [(byte)'$', (byte)')'] => new(EscapeAction.DesignateG1, length, GraphicCharacterSets.ByFinalByte(GraphicSetShape.Double94, final)),
            [(byte)'*' or (byte)'+' or (byte)'.' or (byte)'/'] or [(byte)'$', (byte)'*' or (byte)'+' or (byte)'.' or (byte)'/']
                => new(EscapeAction.Ignore, length, null),
            _ => new(EscapeAction.Unsupported, length, null),
        };
    }
}
