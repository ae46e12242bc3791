using System.Text;

namespace PluginHost.Tests.Support;

/// <summary>One row change as the oracle (or our decoder, rendered the oracle's way) prints it.</summary>
public sealed class OracleRow
{
    public required string Op { get; init; }          // INSERT, UPDATE, DELETE
    public required string Table { get; init; }       // `db`.`table`
    /// <summary>Before image (WHERE): column number (1-based) and the value bytes exactly as printed.</summary>
    public List<(int Column, byte[] Value)> Before { get; } = [];
    /// <summary>After image (SET).</summary>
    public List<(int Column, byte[] Value)> After { get; } = [];
    /// <summary>Values, by image (<c>WHERE</c> or <c>SET</c>) and column (1-based), that are embedded JSON (our MariaDB
    /// JSON values from the live client), compared as JSON rather than byte for byte.</summary>
    public HashSet<(string Image, int Column)> JsonValues { get; } = [];
    /// <summary>Where this row came from (file, event position), for messages.</summary>
    public string Where { get; set; } = "";

    public override string ToString()
    {
        var sb = new StringBuilder($"{Op} {Table} {Where}");
        if (Before.Count > 0) sb.Append(" WHERE ").AppendJoin(", ", Before.Select(c => $"@{c.Column}={Show(c.Value)}"));
        if (After.Count > 0) sb.Append(" SET ").AppendJoin(", ", After.Select(c => $"@{c.Column}={Show(c.Value)}"));
        return sb.ToString();
    }

    public static string Show(byte[] v)
    {
        var s = Encoding.Latin1.GetString(v);
        return s.Length > 200 ? s[..200] + $"…({v.Length} bytes)" : s;
    }
}
