namespace PluginHost.Binlog.Ddl;

/// <summary>
/// A column as a CREATE or ALTER statement defines it: what decoding needs (the information_schema <c>DATA_TYPE</c>,
/// signedness, character set, ENUM/SET labels, fractional seconds, JSON-ness) and whether it is the primary key.
/// </summary>
internal sealed record ColumnDefinition(string Name, string DataType, bool IsUnsigned, string? Charset, string? Collation,
    bool BinaryCollation, string[]? Labels, int FractionalDigits, bool IsPrimaryKey, bool IsJson)
{
    /// <summary>Types whose values are text in a character set (so a collation applies).</summary>
    public static bool IsTextType(string dataType) => dataType is "char" or "varchar" or "tinytext" or "text" or "mediumtext" or "longtext" or "enum" or "set";
}
