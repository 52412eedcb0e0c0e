using System.Text;

namespace Kaapana.Server.Viewer;

/// <summary>
/// The OHIF production build assumes it is served from <c>/</c>. These rewrites move every root-absolute reference under a
/// base path such as <c>/viewer/</c>: the HTML entry page, webpack's public path in every bundle (workers included, they
/// load their own chunks), font URLs in CSS, and icon paths in the web manifests. Replacements work on bytes, so files
/// are never re-encoded.
/// </summary>
public static class OhifBasePathRewriter
{
    /// <summary>The (from, to) byte replacements for one file, chosen by its name; empty when the file needs none.</summary>
    public static IReadOnlyList<(string From, string To)> RulesFor(string fileName, string basePath)
    {
        string b = basePath.TrimEnd('/') + "/"; // "/viewer/"
        return Path.GetExtension(fileName).ToLowerInvariant() switch
        {
            ".html" or ".xml" =>
            [
                ("src=\"/", $"src=\"{b}"),
                ("href=\"/", $"href=\"{b}"),
                ("window.PUBLIC_URL=\"/\"", $"window.PUBLIC_URL=\"{b}\""),
            ],
            ".js" or ".mjs" =>
            [
                // rspack emits the runtime unminified; a minified build would read `.p="/"`.
                ("__webpack_require__.p = \"/\"", $"__webpack_require__.p = \"{b}\""),
            ],
            ".css" => [("url(/", $"url({b}")],
            ".json" or ".webapp" => [("\"/assets/", $"\"{b}assets/")],
            _ => [],
        };
    }

    /// <summary>Applies <see cref="RulesFor"/> to the file in place; returns how many references were moved.</summary>
    public static int RewriteFile(string path, string basePath)
    {
        var rules = RulesFor(path, basePath);
        if (rules.Count == 0)
        {
            return 0;
        }

        byte[] content = File.ReadAllBytes(path);
        int total = 0;
        foreach (var (from, to) in rules)
        {
            (content, int n) = Replace(content, Encoding.UTF8.GetBytes(from), Encoding.UTF8.GetBytes(to));
            total += n;
        }
        if (total > 0)
        {
            File.WriteAllBytes(path, content);
        }
        return total;
    }

    internal static (byte[] Result, int Count) Replace(byte[] source, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to)
    {
        int count = 0;
        for (int at = 0, i; (i = source.AsSpan(at).IndexOf(from)) >= 0; at += i + from.Length)
        {
            count++;
        }
        if (count == 0)
        {
            return (source, 0);
        }

        var result = new byte[source.Length + count * (to.Length - from.Length)];
        var rest = source.AsSpan();
        var dest = result.AsSpan();
        for (int i; (i = rest.IndexOf(from)) >= 0;)
        {
            rest[..i].CopyTo(dest);
            to.CopyTo(dest[i..]);
            dest = dest[(i + to.Length)..];
            rest = rest[(i + from.Length)..];
        }
        rest.CopyTo(dest);
        return (result, count);
    }
}
