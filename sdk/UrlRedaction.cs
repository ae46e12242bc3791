using System.Text;
using System.Text.RegularExpressions;

namespace PluginHost.Sdk;

/// <summary>
/// Masks the secret parts of a URL wherever one is shown (logs, API answers, dead-letter records): the userinfo
/// (<c>user:password@</c> → <c>***@</c>), every query value (<c>?access_token=abc</c> → <c>?access_token=***</c>), the
/// fragment, and path segments that carry tokens: each segment after a known token-bearing prefix (<c>/services/</c>
/// Slack, <c>/api/webhooks/</c> Discord, <c>/webhookb2/</c> Teams, <c>/hooks/catch/</c> Zapier) and any segment that
/// looks random (of letters, digits and <c>-_.:~%</c>: 20+ characters mixing upper case, lower case and digits, 32+
/// mixing letters and digits, or 32+ hex digits).
/// Scheme, host, port and the other path segments stay readable.
/// </summary>
public static partial class UrlRedaction
{
    public const string Mask = "***";

    private static readonly string[][] TokenPrefixes = [["services"], ["api", "webhooks"], ["webhookb2"], ["hooks", "catch"]];

    /// <summary>The URL (absolute, or a path starting with <c>/</c>) with its secret parts masked.</summary>
    public static string Display(string url)
    {
        if (string.IsNullOrEmpty(url)) return url;
        var (head, path, query, fragment) = Split(url);
        var sb = new StringBuilder(url.Length);
        sb.Append(head.At is > 0 ? head.Text[..head.SchemeEnd] + Mask + head.Text[head.At..] : head.Text);
        var segments = path.Split('/');
        var masked = TokenSegments(segments);
        for (var i = 0; i < segments.Length; i++)
        {
            if (i > 0) sb.Append('/');
            sb.Append(masked[i] ? Mask : segments[i]);
        }
        if (query != null)
        {
            sb.Append('?');
            var parts = query.Split('&');
            for (var i = 0; i < parts.Length; i++)
            {
                if (i > 0) sb.Append('&');
                var eq = parts[i].IndexOf('=');
                sb.Append(eq >= 0 ? parts[i][..(eq + 1)] + (eq + 1 < parts[i].Length ? Mask : "") : parts[i].Length > 0 ? Mask : "");
            }
        }
        if (fragment != null) sb.Append('#').Append(fragment.Length > 0 ? Mask : "");
        return sb.ToString();
    }

    /// <summary>Every <c>scheme://…</c> URL in <paramref name="text"/> shown with <see cref="Display"/>.</summary>
    public static string InText(string text)
    {
        if (string.IsNullOrEmpty(text) || !text.Contains("://", StringComparison.Ordinal)) return text;
        return UrlPattern().Replace(text, m =>
        {
            var url = m.Value.TrimEnd('.', ',', ';', ':', ')', ']', '}', '!', '?');
            return Display(url) + m.Value[url.Length..];
        });
    }

    /// <summary>The raw secret parts of <paramref name="url"/> (userinfo, query values, token path segments), to mask in free text.</summary>
    public static IEnumerable<string> SecretParts(string url)
    {
        if (string.IsNullOrEmpty(url)) yield break;
        var (head, path, query, fragment) = Split(url);
        if (head.At is > 0)
        {
            var userinfo = head.Text[head.SchemeEnd..(head.At - 1)];
            yield return userinfo;
            foreach (var part in userinfo.Split(':')) yield return part;
        }
        var segments = path.Split('/');
        var masked = TokenSegments(segments);
        for (var i = 0; i < segments.Length; i++)
            if (masked[i]) yield return segments[i];
        if (query != null)
            foreach (var p in query.Split('&'))
                yield return p.IndexOf('=') is var eq and >= 0 ? p[(eq + 1)..] : p;
        if (fragment != null) yield return fragment;
    }

    private readonly record struct Head(string Text, int SchemeEnd, int At);

    /// <summary>Splits into scheme+authority (with where the userinfo ends), path, query and fragment (null when absent).</summary>
    private static (Head Head, string Path, string? Query, string? Fragment) Split(string url)
    {
        string? fragment = null, query = null;
        var hash = url.IndexOf('#');
        if (hash >= 0) { fragment = url[(hash + 1)..]; url = url[..hash]; }
        var q = url.IndexOf('?');
        if (q >= 0) { query = url[(q + 1)..]; url = url[..q]; }
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return (new Head("", 0, -1), url, query, fragment);
        var authorityStart = scheme + 3;
        var slash = url.IndexOf('/', authorityStart);
        var authority = slash < 0 ? url : url[..slash];
        var at = authority.LastIndexOf('@');
        return (new Head(authority, authorityStart, at < authorityStart ? -1 : at), slash < 0 ? "" : url[slash..], query, fragment);
    }

    private static bool[] TokenSegments(string[] segments)
    {
        var masked = new bool[segments.Length];
        for (var i = 0; i < segments.Length; i++)
        {
            if (LooksRandom(segments[i])) masked[i] = true;
            foreach (var prefix in TokenPrefixes)
            {
                if (i + prefix.Length > segments.Length) continue;
                var match = true;
                for (var j = 0; j < prefix.Length && match; j++)
                    match = string.Equals(segments[i + j], prefix[j], StringComparison.OrdinalIgnoreCase);
                if (!match) continue;
                for (var k = i + prefix.Length; k < segments.Length; k++) masked[k] = segments[k].Length > 0;
            }
        }
        return masked;
    }

    private static bool LooksRandom(string segment)
    {
        if (segment.Length >= 32 && segment.All(char.IsAsciiHexDigit)) return true;
        if (segment.Length < 20) return false;
        bool upper = false, lower = false, digit = false;
        foreach (var c in segment)
        {
            if (char.IsAsciiLetterUpper(c)) upper = true;
            else if (char.IsAsciiLetterLower(c)) lower = true;
            else if (char.IsAsciiDigit(c)) digit = true;
            else if (c is not ('-' or '_' or '.' or ':' or '~' or '%')) return false;
        }
        return digit && (upper && lower || segment.Length >= 32 && (upper || lower));
    }

    [GeneratedRegex(@"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s""'<>]+")]
    private static partial Regex UrlPattern();
}
