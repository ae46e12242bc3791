using System.Text;
using PluginHost.Sdk;

namespace MyHelpers;

/// <summary>
/// Functions .csx transforms call without qualification once this plugin is in <c>plugins_dir</c>, e.g.
/// <c>e.After["slug"] = tSlug((string?)e.After["title"]);</c>. The host finds public static classes marked
/// <c>[HelperFunctions]</c> in the plugin's DLL; every public static method is a helper. Give <c>null</c> for
/// <c>null</c> (SQL NULL stays NULL), and pick names no other helper plugin uses.
/// </summary>
[HelperFunctions]
public static class MyHelpers
{
    /// <summary>
    /// A URL slug: ASCII letters and digits in lower case, every other run of characters one <c>-</c>, none at either
    /// end: <c>"Hello, World!"</c> → <c>"hello-world"</c>.
    /// </summary>
    public static string? tSlug(string? value)
    {
        if (value is null) return null;
        var sb = new StringBuilder(value.Length);
        var dash = false;
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                dash = sb.Length > 0;
                continue;
            }
            if (dash) sb.Append('-');
            sb.Append(char.ToLowerInvariant(c));
            dash = false;
        }
        return sb.ToString();
    }
}
