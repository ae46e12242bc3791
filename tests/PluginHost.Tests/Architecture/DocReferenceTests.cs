using System.Text.RegularExpressions;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Architecture;

/// <summary>
/// Every <c>docs/PAGE.md#anchor</c> that the program prints or a shipped file names (host, plugins, sdk, scripts,
/// templates, docs/deploy) leads to a heading of that page: scripts/check-doc-links.py checks the docs' own links,
/// this checks the ones users read in messages and comments. Anchors are GitHub's heading slugs, as that script makes them.
/// </summary>
public sealed partial class DocReferenceTests
{
    private static readonly string[] Folders = ["host", "plugins", "sdk", "scripts", "templates", "transforms", Path.Combine("docs", "deploy")];
    private static readonly string[] Extensions = [".cs", ".csx", ".js", ".sh", ".py", ".yml", ".yaml", ".json", ".service", ".timer", ".md"];

    [Fact]
    public void Every_docs_anchor_named_in_the_code_and_the_shipped_files_is_a_heading_of_that_page()
    {
        var root = RepoPaths.RepoRoot;
        var broken = new List<string>();
        var checkedCount = 0;
        foreach (var file in Folders.SelectMany(f => Directory.EnumerateFiles(Path.Combine(root, f), "*", SearchOption.AllDirectories))
                     .Where(f => Extensions.Contains(Path.GetExtension(f)) && !IsBuildOutput(f) && Path.GetFileName(f) != "Dockerfile"))
            Check(file);
        Check(Path.Combine(root, "docs", "deploy", "Dockerfile"));
        Assert.True(checkedCount >= 5, $"only {checkedCount} references found: is the pattern still right?");
        Assert.True(broken.Count == 0, "no such heading:\n" + string.Join('\n', broken));

        void Check(string file)
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
                foreach (Match m in Reference().Matches(lines[i]))
                {
                    checkedCount++;
                    var page = Path.Combine(root, "docs", m.Groups["page"].Value);
                    if (!File.Exists(page) || !Anchors(page).Contains(m.Groups["anchor"].Value))
                        broken.Add($"{Path.GetRelativePath(root, file)}:{i + 1}: {m.Value}");
                }
        }
    }

    private static bool IsBuildOutput(string path) =>
        path.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj" or "node_modules");

    /// <summary>The heading slugs of a markdown page (outside fenced code), numbered on repeats as GitHub does.</summary>
    private static HashSet<string> Anchors(string page)
    {
        var seen = new Dictionary<string, int>();
        var anchors = new HashSet<string>();
        var fenced = false;
        foreach (var line in File.ReadLines(page))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { fenced = !fenced; continue; }
            if (fenced || Heading().Match(line) is not { Success: true } h) continue;
            var text = Link().Replace(h.Groups["text"].Value, "$1");
            var slug = NotSlug().Replace(text.ToLowerInvariant(), "").Replace(' ', '-');
            var n = seen.GetValueOrDefault(slug);
            seen[slug] = n + 1;
            anchors.Add(n == 0 ? slug : $"{slug}-{n}");
        }
        return anchors;
    }

    [GeneratedRegex(@"docs/(?<page>[a-z0-9-]+\.md)#(?<anchor>[a-z0-9_-]+)")]
    private static partial Regex Reference();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"\[([^\]]*)\]\([^)]*\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"[^\w\- ]")]
    private static partial Regex NotSlug();
}
