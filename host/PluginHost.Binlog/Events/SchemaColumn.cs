namespace PluginHost.Binlog.Events;

/// <summary>One column as described by information_schema.</summary>
/// <param name="FractionalDigits">DATETIME_PRECISION of TIME/DATETIME/TIMESTAMP columns: needed to decode MariaDB's
/// pre-10.1 "hires" temporal formats, whose table-map entry does not carry it.</param>
public sealed record SchemaColumn(string Name, string DataType, bool IsUnsigned, int Collation, string[]? Labels, int FractionalDigits = 0);
