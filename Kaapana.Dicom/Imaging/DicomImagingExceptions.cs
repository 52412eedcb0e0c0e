namespace Kaapana.Dicom.Imaging;

/// <summary>Pixel data that cannot be interpreted: missing or inconsistent Image Pixel attributes, frames that cannot be located.</summary>
public class DicomPixelDataException(string message, Exception? inner = null) : DicomException(message, inner);

/// <summary>
/// A compressed frame that cannot be decoded (corrupt or truncated bitstream, parameters that disagree with the data set),
/// a transfer syntax without a codec, or a native codec library that is not installed (the message names the Debian package).
/// </summary>
public sealed class DicomCodecException : DicomPixelDataException
{
    public DicomCodecException(string message, DicomTransferSyntax? transferSyntax = null, int? frame = null, Exception? inner = null)
        : base(Compose(message, transferSyntax, frame), inner)
    {
        TransferSyntax = transferSyntax;
        Frame = frame;
    }

    public DicomTransferSyntax? TransferSyntax { get; }

    /// <summary>Zero-based frame index, when the failure concerns one frame.</summary>
    public int? Frame { get; }

    private static string Compose(string message, DicomTransferSyntax? ts, int? frame) =>
        (ts, frame) switch
        {
            (null, null) => message,
            (null, { } f) => $"{message} (frame {f})",
            ({ } t, null) => $"{message} ({t.Name})",
            ({ } t, { } f) => $"{message} ({t.Name}, frame {f})",
        };
}
