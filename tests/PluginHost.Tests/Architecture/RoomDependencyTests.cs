using System.Text;
using System.Text.RegularExpressions;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Architecture;

/// <summary>
/// The rooms (folders) of <c>host/</c> depend one way, along the data path (docs/architecture.md#rooms): a room uses
/// only rooms earlier in <see cref="Order"/>. Reads the sources: a <c>using PluginHost.Room</c>, a
/// <c>PluginHost.Room.</c> name, or a <c>Room.Type</c> name (a type that room declares) counts; comments and the text
/// of string literals do not. The files at <c>host/</c>'s top (<c>Program.cs</c>) come after every room.
/// </summary>
public sealed partial class RoomDependencyTests
{
    /// <summary>The rooms, lowest first. The sdk and the binlog library are projects of their own, below them all.</summary>
    public static readonly string[] Order =
        ["Logging", "Demo", "Config", "Schema", "Scripting", "Plugins", "Checkpoints", "Sinks", "Snapshots", "Pipelines", "Control", "Cluster", "Api", "Hosting", "Cli"];

    private static string HostDirectory => Path.Combine(RepoPaths.RepoRoot, "host");

    [Fact]
    public void Every_room_uses_only_rooms_earlier_in_the_order()
    {
        var files = SourceFiles().ToList();
        Assert.True(files.Count > 100, $"only {files.Count} source files found under {HostDirectory}");
        var violations = Violations(files.Select(f => (Relative(f), File.ReadAllText(f)))).ToList();
        Assert.True(violations.Count == 0, "rooms using later rooms:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Every_folder_of_host_is_a_room_in_the_order()
    {
        var unknown = Directory.GetDirectories(HostDirectory).Select(Path.GetFileName)
            .Where(d => d is not ("bin" or "obj" or "PluginHost.Binlog") && !Order.Contains(d)).ToList();
        Assert.True(unknown.Count == 0, $"host/{string.Join(", host/", unknown)}: not in RoomDependencyTests.Order; place it there and in docs/architecture.md");
    }

    [Fact]
    public void A_using_a_qualified_name_and_a_room_type_name_of_a_later_room_are_each_reported()
    {
        var sources = new[]
        {
            ("Pipelines/Runner.cs", "namespace PluginHost.Pipelines;\npublic sealed class Runner;"),
            ("Config/A.cs", "using PluginHost.Pipelines;\nnamespace PluginHost.Config;\nclass A;"),
            ("Config/B.cs", "namespace PluginHost.Config;\nclass B { global::PluginHost.Control.X? x; }"),
            ("Config/C.cs", "namespace PluginHost.Config;\nclass C { Pipelines.Runner? r; string Pipelines => \"\"; int n = Pipelines.Length; }"),
            ("Config/D.cs", "namespace PluginHost.Config;\n// using PluginHost.Api;\nclass D { string s = \"PluginHost.Api \\\" PluginHost.Api\" + @\"\"\"PluginHost.Api\" + $\"{Pipelines.Runner.Name} PluginHost.Api\"; /* PluginHost.Cli */ }"),
            ("Api/E.cs", "using PluginHost.Pipelines;\nnamespace PluginHost.Api;\nclass E;"),
        };
        var found = Violations(sources).ToList();
        Assert.Equal(
        [
            "Config/A.cs:1: Config uses Pipelines (PluginHost.Pipelines)",
            "Config/B.cs:2: Config uses Control (PluginHost.Control)",
            "Config/C.cs:2: Config uses Pipelines (Pipelines.Runner)",
            "Config/D.cs:3: Config uses Pipelines (Pipelines.Runner)",
        ], found);
    }

    /// <summary>Each reference from a room to a later one: <c>file:line: Room uses Later (what)</c>.</summary>
    private static IEnumerable<string> Violations(IEnumerable<(string Path, string Text)> sources)
    {
        var files = sources.Select(s => (s.Path, Room: RoomOf(s.Path), Code: CodeOnly(s.Text))).ToList();
        var types = files.Where(f => f.Room.Length > 0).GroupBy(f => f.Room)
            .ToDictionary(g => g.Key, g => g.SelectMany(f => DeclaredType().Matches(f.Code).Select(m => m.Groups[1].Value)).ToHashSet());
        foreach (var (path, room, code) in files)
        {
            var rank = Rank(room);
            var lines = code.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].TrimStart().StartsWith("namespace ", StringComparison.Ordinal)) continue;
                foreach (Match m in Qualified().Matches(lines[i]))
                    if (Rank(m.Groups[1].Value) > rank && Order.Contains(m.Groups[1].Value))
                        yield return $"{path}:{i + 1}: {Name(room)} uses {m.Groups[1].Value} ({m.Value})";
                foreach (Match m in RoomDotName().Matches(lines[i]))
                {
                    var (other, type) = (m.Groups[1].Value, m.Groups[2].Value);
                    if (Rank(other) > rank && types.TryGetValue(other, out var declared) && declared.Contains(type))
                        yield return $"{path}:{i + 1}: {Name(room)} uses {other} ({other}.{type})";
                }
            }
        }
    }

    /// <summary>The room's place in the order; the files at host/'s top come last.</summary>
    private static int Rank(string room) => room.Length == 0 ? Order.Length : Array.IndexOf(Order, room) is var i and >= 0 ? i : Order.Length;

    private static string Name(string room) => room.Length == 0 ? "host/" : room;

    private static string RoomOf(string relative) => relative.Contains('/') ? relative[..relative.IndexOf('/')] : "";

    private static string Relative(string file) => Path.GetRelativePath(HostDirectory, file).Replace('\\', '/');

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(HostDirectory, "*.cs", SearchOption.AllDirectories).Where(f =>
        {
            var parts = Relative(f).Split('/');
            return !parts.Contains("bin") && !parts.Contains("obj") && parts[0] != "PluginHost.Binlog";
        });

    /// <summary>
    /// The source with comments and the text of string and character literals blanked (line breaks kept, so line
    /// numbers hold); the expressions inside interpolation holes stay.
    /// </summary>
    internal static string CodeOnly(string source)
    {
        var output = new StringBuilder(source.Length);
        var i = 0;
        Code(source, ref i, output, hole: 0);
        return output.ToString();
    }

    /// <summary>Copies code from <paramref name="i"/>; in a hole (<paramref name="hole"/> braces close it) stops at its closing brace.</summary>
    private static void Code(string s, ref int i, StringBuilder output, int hole)
    {
        var depth = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (c == '/' && At(s, i + 1, '/'))
                while (i < s.Length && s[i] != '\n') Blank(s, ref i, output);
            else if (c == '/' && At(s, i + 1, '*'))
            {
                while (i < s.Length && !(s[i] == '*' && At(s, i + 1, '/'))) Blank(s, ref i, output);
                Blank(s, ref i, output);
                Blank(s, ref i, output);
            }
            else if (c == '\'')
            {
                Blank(s, ref i, output);
                while (i < s.Length && s[i] != '\'' && s[i] != '\n')
                {
                    if (s[i] == '\\') Blank(s, ref i, output);
                    Blank(s, ref i, output);
                }
                Blank(s, ref i, output);
            }
            else if (c is '"' or '$' or '@' && StringStart(s, i) is { } start)
                Literal(s, ref i, output, start);
            else if (hole > 0 && c == '}' && depth == 0)
                return;
            else
            {
                depth += c == '{' ? 1 : c == '}' ? -1 : 0;
                output.Append(c);
                i++;
            }
        }
    }

    /// <summary>At <paramref name="i"/> a string literal starts: its dollar count, whether verbatim, and its quote count.</summary>
    private static (int Dollars, bool Verbatim, int Quotes)? StringStart(string s, int i)
    {
        int dollars = 0, j = i;
        var verbatim = false;
        while (j < s.Length && (s[j] == '$' || (s[j] == '@' && !verbatim)))
        {
            if (s[j] == '$') dollars++;
            else verbatim = true;
            j++;
        }
        if (!At(s, j, '"')) return null;
        var quotes = 0;
        while (At(s, j + quotes, '"')) quotes++;
        return (dollars, verbatim, quotes >= 3 && !verbatim ? quotes : 1);
    }

    private static void Literal(string s, ref int i, StringBuilder output, (int Dollars, bool Verbatim, int Quotes) start)
    {
        while (s[i] != '"') Blank(s, ref i, output);
        for (var q = 0; q < start.Quotes; q++) Blank(s, ref i, output);
        var raw = start.Quotes >= 3;
        var openHole = start.Dollars == 0 ? int.MaxValue : raw ? start.Dollars : 1;
        while (i < s.Length)
        {
            if (raw ? Run(s, i, '"') >= start.Quotes : s[i] == '"' && !(start.Verbatim && At(s, i + 1, '"')))
            {
                for (var q = 0; q < (raw ? start.Quotes : 1); q++) Blank(s, ref i, output);
                return;
            }
            if ((start.Verbatim && s[i] == '"') || (!raw && !start.Verbatim && s[i] == '\\'))
            {
                Blank(s, ref i, output); // "" in a verbatim string, or an escape
                Blank(s, ref i, output);
                continue;
            }
            else if (s[i] == '{' && Run(s, i, '{') is var braces && braces >= openHole)
            {
                if (!raw && braces >= 2)
                {
                    Blank(s, ref i, output); // {{ is a brace
                    Blank(s, ref i, output);
                    continue;
                }
                for (var b = 0; b < braces; b++) Blank(s, ref i, output);
                Code(s, ref i, output, hole: 1);
                while (i < s.Length && s[i] == '}') Blank(s, ref i, output);
                continue;
            }
            Blank(s, ref i, output);
        }
    }

    private static int Run(string s, int i, char c)
    {
        var n = 0;
        while (At(s, i + n, c)) n++;
        return n;
    }

    private static bool At(string s, int i, char c) => i < s.Length && s[i] == c;

    private static void Blank(string s, ref int i, StringBuilder output)
    {
        if (i >= s.Length) return;
        output.Append(s[i] == '\n' ? '\n' : ' ');
        i++;
    }

    /// <summary><c>PluginHost.Room</c>, in a using or a qualified name.</summary>
    [GeneratedRegex(@"\bPluginHost\.([A-Z][A-Za-z]*)\b")]
    private static partial Regex Qualified();

    /// <summary><c>Room.Name</c> not preceded by a dot or a letter (a name qualified from inside the PluginHost namespace).</summary>
    [GeneratedRegex(@"(?<![\w.])([A-Z][A-Za-z]*)\.([A-Z]\w*)")]
    private static partial Regex RoomDotName();

    /// <summary>A type declaration's name.</summary>
    [GeneratedRegex(@"\b(?:class|struct|interface|enum|record|delegate\s+\S+)\s+([A-Z]\w*)")]
    private static partial Regex DeclaredType();
}
