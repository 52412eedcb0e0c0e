using System.Text;

namespace Kaapana.Dicom;

/// <summary>
/// Hands out .NET code-page encodings configured for DICOM use: decoding yields U+FFFD and encoding yields '?'
/// instead of throwing or "best-fit" guessing (the default fallback of the Windows code pages silently turns 'à' into 'a').
/// </summary>
internal static class CodePageSource
{
    static CodePageSource()
    {
        // ISO-8859-x (other than Latin-1), the EUC / DBCS tables and GB18030 live in the code-pages provider of the shared framework.
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
    }

    /// <summary>The code page, or null when this runtime does not provide it (callers then treat every byte as undecodable).</summary>
    public static Encoding? TryGet(int codePage)
    {
        try
        {
            return Encoding.GetEncoding(codePage, new EncoderReplacementFallback("?"), new DecoderReplacementFallback("\uFFFD"));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>True for the Private Use Area, where Windows code pages park bytes that the ISO/KS/GB standards leave undefined.</summary>
    public static bool IsPrivateUse(char c) => c is >= '\uE000' and <= '\uF8FF';
}
