namespace PluginHost.Binlog.Protocol;

/// <summary>One column of a text-protocol result set, as the server describes it (ColumnDefinition41).</summary>
/// <param name="Name">The column label (<c>AS</c> alias or the column name).</param>
/// <param name="OriginalName">The column name in its table ("" for expressions).</param>
/// <param name="Table">The table alias ("" for expressions).</param>
/// <param name="Database">The schema of the table ("" for expressions).</param>
/// <param name="CharacterSet">Collation id of the values as sent: the column's own collation when the session has
/// <c>character_set_results = NULL</c>, 63 (binary) for binary data and numbers.</param>
/// <param name="Length">Maximum length of the column in bytes.</param>
/// <param name="Type">Field type code (the same codes as table maps; ENUM and SET columns are sent as STRING with
/// <see cref="ColumnFlags.Enum"/> or <see cref="ColumnFlags.Set"/>).</param>
/// <param name="Flags">NOT NULL, UNSIGNED, BINARY, …</param>
/// <param name="Decimals">Digits after the point of DECIMAL, fractional-second digits of temporal columns.</param>
public sealed record ColumnDefinition(
    string Name, string OriginalName, string Table, string Database, int CharacterSet, uint Length, ColumnType Type, ColumnFlags Flags, byte Decimals)
{
    /// <summary>True for an UNSIGNED numeric column.</summary>
    public bool IsUnsigned => (Flags & ColumnFlags.Unsigned) != 0;

    /// <summary>True when the values are bytes, not text (charset binary).</summary>
    public bool IsBinary => CharacterSet == Values.Charsets.Binary;
}
