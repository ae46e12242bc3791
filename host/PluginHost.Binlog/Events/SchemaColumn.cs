namespace PluginHost.Binlog.Events;

/// <summary>One column as described by information_schema (or the schema history).</summary>
/// <param name="FractionalDigits">DATETIME_PRECISION of TIME/DATETIME/TIMESTAMP columns: needed to decode MariaDB's
/// pre-10.1 "hires" temporal formats, whose table-map entry does not carry it.</param>
/// <param name="IsJson">A MariaDB JSON column (text with a <c>json_valid</c> check), or MySQL's JSON type.</param>
public sealed record SchemaColumn(string Name, string DataType, bool IsUnsigned, int Collation, string[]? Labels, int FractionalDigits = 0,
    bool IsJson = false);
