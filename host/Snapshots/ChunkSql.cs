using System.Globalization;
using System.Text;
using PluginHost.Binlog.Values;
using PluginHost.Sdk;

namespace PluginHost.Snapshots;

/// <summary>
/// The SQL a chunk runs: identifiers backquoted, key bounds re-quoted from their raw bytes by type (numbers and dates
/// checked character by character, text as a hex literal with its charset introducer, binary as a hex literal), so no
/// value is ever pasted into SQL as text.
/// </summary>
internal static class ChunkSql
{
    /// <summary>A backquoted identifier (backquotes doubled).</summary>
    public static string Ident(string name) => "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";

    /// <summary><c>`db`.`table`</c>.</summary>
    public static string TableName(SnapshotTable t) => Ident(t.Database) + "." + Ident(t.Table);

    /// <summary>The column list: FLOAT as <c>CAST(… AS DOUBLE)</c> (FLOAT's own text has 6 significant digits).</summary>
    public static string SelectList(SnapshotTable t) =>
        string.Join(", ", t.Columns.Select(c => c.IsFloat ? $"CAST({Ident(c.Name)} AS DOUBLE)" : Ident(c.Name)));

    /// <summary>
    /// <c>SELECT … FROM t [FORCE INDEX (k)] WHERE (after key) AND (where) ORDER BY k LIMIT n</c>; for a keyless table
    /// (or <paramref name="limit"/> ≤ 0) no ORDER BY and no LIMIT.
    /// </summary>
    public static string Select(SnapshotTable t, SnapshotKey? after, string? where, int limit)
    {
        var sb = new StringBuilder("SELECT ").Append(SelectList(t)).Append(" FROM ").Append(TableName(t));
        var keyed = t.ChunkKey.Count > 0;
        if (keyed) sb.Append(" FORCE INDEX (").Append(Ident(t.ChunkKeyName!)).Append(')');
        var conditions = new List<string>(2);
        if (after is not null) conditions.Add(After(t, after));
        if (!string.IsNullOrWhiteSpace(where)) conditions.Add("(" + where + ")");
        if (conditions.Count > 0) sb.Append(" WHERE ").AppendJoin(" AND ", conditions);
        if (keyed)
        {
            sb.Append(" ORDER BY ").AppendJoin(", ", t.ChunkKey.Select(i => Ident(t.Columns[i].Name)));
            if (limit > 0) sb.Append(" LIMIT ").Append(limit.ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>
    /// Rows after <paramref name="key"/> in key order, written so the range optimizer uses the key on MariaDB and MySQL:
    /// <c>k1 &gt;= v1 AND (k1 &gt; v1 OR (k1 = v1 AND k2 &gt; v2) OR …)</c> (the row constructor <c>(k1,k2) &gt; (v1,v2)</c>
    /// makes MariaDB scan the whole index).
    /// </summary>
    public static string After(SnapshotTable t, SnapshotKey key)
    {
        if (key.Values.Count != t.ChunkKey.Count)
            throw new SnapshotException($"The resume key of {t.FullName} has {key.Values.Count} values; its chunk key {t.ChunkKeyName} has {t.ChunkKey.Count} columns (the table changed?).");
        var names = t.ChunkKey.Select(i => Ident(t.Columns[i].Name)).ToArray();
        var values = t.ChunkKey.Select((c, i) => Literal(t.Columns[c], key.Values[i])).ToArray();
        var sb = new StringBuilder("(").Append(names[0]).Append(" >= ").Append(values[0]);
        if (names.Length == 1) return sb.Clear().Append('(').Append(names[0]).Append(" > ").Append(values[0]).Append(')').ToString();
        sb.Append(" AND (");
        for (var i = 0; i < names.Length; i++)
        {
            if (i > 0) sb.Append(" OR ");
            sb.Append('(');
            for (var j = 0; j < i; j++) sb.Append(names[j]).Append(" = ").Append(values[j]).Append(" AND ");
            sb.Append(names[i]).Append(" > ").Append(values[i]).Append(')');
        }
        return sb.Append("))").ToString();
    }

    /// <summary>A SQL literal for a key column's raw text-protocol value.</summary>
    public static string Literal(SnapshotColumn c, byte[] raw)
    {
        switch (c.Kind)
        {
            case ColumnKind.Integer or ColumnKind.Decimal or ColumnKind.Year:
                return Checked(c, raw, static (b, i) => b is >= (byte)'0' and <= (byte)'9' || b == '.' || b == '-' && i == 0, quote: false);
            case ColumnKind.Date or ColumnKind.DateTime or ColumnKind.Timestamp or ColumnKind.Time:
                return Checked(c, raw, static (b, _) => b is >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)':' or (byte)'.' or (byte)' ', quote: true);
            case ColumnKind.Bit:
            {
                ulong bits = 0;
                foreach (var b in raw) bits = bits << 8 | b;
                return bits.ToString(CultureInfo.InvariantCulture);
            }
            case ColumnKind.Binary:
                return "X'" + Convert.ToHexString(raw) + "'";
            case ColumnKind.Text:
                return Introducer(c) + " X'" + Convert.ToHexString(raw) + "'";
            case ColumnKind.Enum:
            {
                // ENUM sorts and compares by its index; a string bound would compare by label.
                var label = Charsets.GetEncoding(c.Collation).GetString(raw);
                return (Array.IndexOf(c.Labels ?? [], label) + 1).ToString(CultureInfo.InvariantCulture);
            }
            case ColumnKind.Set:
            {
                ulong mask = 0;
                if (raw.Length > 0)
                    foreach (var label in Charsets.GetEncoding(c.Collation).GetString(raw).Split(','))
                        mask |= 1UL << Math.Max(0, Array.IndexOf(c.Labels ?? [], label));
                return mask.ToString(CultureInfo.InvariantCulture);
            }
            default:
                throw new SnapshotException($"Column '{c.Name}' ({c.DataType}) cannot bound a chunk.");
        }
    }

    private static string Introducer(SnapshotColumn c)
    {
        var charset = c.CharacterSet ?? "";
        if (charset.Length == 0 || !charset.All(ch => ch is >= 'a' and <= 'z' or >= '0' and <= '9' or '_'))
            throw new SnapshotException($"Column '{c.Name}' has the character set '{charset}', which cannot be written as an introducer.");
        return "_" + charset;
    }

    private static string Checked(SnapshotColumn c, byte[] raw, Func<byte, int, bool> allowed, bool quote)
    {
        if (raw.Length == 0 || raw.Length > 64) throw BadKey(c, raw);
        for (var i = 0; i < raw.Length; i++)
            if (!allowed(raw[i], i)) throw BadKey(c, raw);
        var text = Encoding.ASCII.GetString(raw);
        return quote ? "'" + text + "'" : text;
    }

    private static SnapshotException BadKey(SnapshotColumn c, byte[] raw) =>
        new($"The key value of column '{c.Name}' ({c.DataType}) is not a {c.DataType}: {Convert.ToHexString(raw.AsSpan(0, Math.Min(raw.Length, 64)))} (a corrupt resume key?).");
}
