using System.Text.Json;

namespace PluginHost.Binlog.Json;

/// <summary>One step of a MySQL JSON path: an object member, or an array cell counted from the start or from the end
/// (<c>[last-N]</c>).</summary>
internal readonly record struct MySqlJsonPathLeg(string? Member, long Index, bool FromEnd)
{
    public bool IsMember => Member is not null;

    /// <summary>The cell's position in an array of <paramref name="size"/> elements (may be out of bounds: negative or ≥ size).</summary>
    public long Position(int size) => FromEnd ? size - 1 - Index : Index;

    public override string ToString() => Member is { } m ? "." + m : FromEnd ? $"[last-{Index}]" : $"[{Index}]";
}

/// <summary>
/// Parses the simple MySQL JSON paths a partial update logs (sql/json_path.cc): <c>$</c> followed by members
/// (<c>.name</c> or <c>."any name"</c>, JSON string escapes) and array cells (<c>[3]</c>, <c>[last]</c>, <c>[last-2]</c>);
/// wildcards and ranges, which a logged diff never holds, are refused.
/// </summary>
internal static class MySqlJsonPath
{
    /// <exception cref="BinlogFormatException">The path is not a simple MySQL JSON path.</exception>
    public static List<MySqlJsonPathLeg> Parse(string path)
    {
        var legs = new List<MySqlJsonPathLeg>();
        var i = SkipBlanks(path, 0);
        if (i >= path.Length || path[i] != '$') throw Bad(path, "does not start with '$'");
        i = SkipBlanks(path, i + 1);
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                i = SkipBlanks(path, i + 1);
                if (i < path.Length && path[i] == '"')
                {
                    var end = i + 1;
                    while (end < path.Length && path[end] != '"') end += path[end] == '\\' ? 2 : 1;
                    if (end >= path.Length) throw Bad(path, "has an unterminated quoted member name");
                    string name;
                    try
                    {
                        name = JsonSerializer.Deserialize<string>(path.AsSpan(i, end - i + 1))!;
                    }
                    catch (JsonException)
                    {
                        throw Bad(path, "has a malformed quoted member name");
                    }
                    legs.Add(new MySqlJsonPathLeg(name, 0, false));
                    i = end + 1;
                }
                else
                {
                    var start = i;
                    while (i < path.Length && (char.IsLetterOrDigit(path[i]) || path[i] is '_' or '$')) i++;
                    if (i == start) throw Bad(path, "has an empty or wildcard member name");
                    legs.Add(new MySqlJsonPathLeg(path[start..i], 0, false));
                }
            }
            else if (path[i] == '[')
            {
                var close = path.IndexOf(']', i);
                if (close < 0) throw Bad(path, "has an unterminated array cell");
                var cell = path.AsSpan(i + 1, close - i - 1).Trim();
                legs.Add(ParseCell(cell, path));
                i = close + 1;
            }
            else throw Bad(path, $"has an unexpected '{path[i]}' at {i}");
            i = SkipBlanks(path, i);
        }
        return legs;
    }

    private static MySqlJsonPathLeg ParseCell(ReadOnlySpan<char> cell, string path)
    {
        if (cell.StartsWith("last"))
        {
            var rest = cell[4..].Trim();
            if (rest.IsEmpty) return new MySqlJsonPathLeg(null, 0, true);
            if (rest[0] != '-') throw Bad(path, $"has an unsupported array cell '[{cell}]'");
            return new MySqlJsonPathLeg(null, Number(rest[1..].Trim(), path), true);
        }
        return new MySqlJsonPathLeg(null, Number(cell, path), false);
    }

    private static long Number(ReadOnlySpan<char> s, string path)
    {
        if (s.IsEmpty || !long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
            throw Bad(path, $"has an unsupported array index '{s}' (wildcards and ranges cannot be applied)");
        return n;
    }

    private static int SkipBlanks(string s, int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        return i;
    }

    private static BinlogFormatException Bad(string path, string why) => new($"JSON path '{path}' {why}");
}
