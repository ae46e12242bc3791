using PluginHost.Binlog.Ddl;
using PluginHost.Binlog.Values;

namespace PluginHost.Binlog.History;

/// <summary>Collation ids for the character sets and collations a DDL statement names (only the character set matters to decoding).</summary>
internal static class CollationNames
{
    /// <summary>The id standing for <paramref name="charset"/> / <paramref name="collation"/>: the character set's default
    /// collation (a collation's set is the prefix of its name); null when neither is given or known.</summary>
    public static int? Resolve(string? charset, string? collation)
    {
        if (collation != null && CharsetOfCollation(collation) is { } byCollation) return byCollation;
        return charset != null ? Charsets.GetDefaultCollationId(charset) : null;
    }

    private static int? CharsetOfCollation(string collation)
    {
        if (collation == "binary") return Charsets.Binary;
        for (var end = collation.IndexOf('_'); end > 0; end = collation.IndexOf('_', end + 1))
            if (Charsets.GetDefaultCollationId(collation[..end]) is { } id) return id;
        return null;
    }

    /// <summary>
    /// The collation id of a column defined by <paramref name="column"/> in a table whose default is
    /// <paramref name="tableDefault"/> (0: unknown): binary for non-text types, then the column's own set or collation,
    /// then the table's default. A text column whose set cannot be told gets 0 (decoded as the table map says, or UTF-8).
    /// </summary>
    public static int Of(ColumnDefinition column, int tableDefault)
    {
        if (!ColumnDefinition.IsTextType(column.DataType) && column.DataType != "json") return Charsets.Binary;
        if (Resolve(column.Charset, column.Collation) is { } own) return own;
        return tableDefault;
    }
}
