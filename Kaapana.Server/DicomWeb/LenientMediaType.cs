using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Kaapana.Server.DicomWeb;

/// <summary>
/// Media-type parsing that accepts what DICOMweb clients really send. Cornerstone (OHIF's image loader) and many scripts
/// write <c>type=application/octet-stream</c> without the quotes RFC 9110 requires for a value containing '/', and the
/// framework's strict parser rejects the whole header; such values are quoted before parsing.
/// </summary>
internal static partial class LenientMediaType
{
    public static bool TryParse(string? value, out MediaTypeHeaderValue? media)
    {
        media = null;
        if (string.IsNullOrWhiteSpace(value)) return false;
        return MediaTypeHeaderValue.TryParse(QuoteSlashValues(value), out media);
    }

    public static bool TryParseList(StringValues values, out IList<MediaTypeHeaderValue> list)
    {
        // Always quoted first: the strict list parser does not reject such a header, it misreads the value.
        var quoted = new StringValues(values.Select(v => v is null ? v : QuoteSlashValues(v)).ToArray());
        return MediaTypeHeaderValue.TryParseList(quoted, out list!);
    }

    /// <summary><c>; type=a/b</c> → <c>; type="a/b"</c>; quoted values and other parameters are left alone.</summary>
    internal static string QuoteSlashValues(string header) => UnquotedSlashValue().Replace(header, "$1\"$2\"");

    [GeneratedRegex(@"(;\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=\s*)([^"";,\s]*/[^"";,\s]*)")]
    private static partial Regex UnquotedSlashValue();
}
