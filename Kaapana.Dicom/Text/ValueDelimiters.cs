namespace Kaapana.Dicom;

/// <summary>
/// Points at which PS3.5 6.1.2.5.3 requires the initial character sets (value 1 of (0008,0005)) to be active again:
/// control characters other than ESC (CR, LF, FF, TAB...), the value delimiter of multi-valued VRs, and the PN
/// component / component-group delimiters. Writers switch back before them; readers reset their state at them.
/// </summary>
internal static class ValueDelimiters
{
    public static bool IsResettingControl(int c) => c < 0x20 && c != 0x1B;

    public static bool IsResettingDelimiter(char c, DicomVR vr) => c switch
    {
        '\\' => !vr.IsSingleValuedText(),
        '^' or '=' => vr == DicomVR.PN,
        _ => false,
    };
}
