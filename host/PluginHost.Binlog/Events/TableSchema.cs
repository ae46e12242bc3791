namespace PluginHost.Binlog.Events;

/// <summary>A table's columns as the schema (information_schema, or the schema history) describes them, used when a
/// table map carries no metadata.</summary>
/// <param name="DefaultCollation">The table's default collation id (for columns added later without one); 0 when unknown.</param>
public sealed record TableSchema(string Database, string Table, IReadOnlyList<SchemaColumn> Columns, IReadOnlyList<int> PrimaryKey, int DefaultCollation = 0);
