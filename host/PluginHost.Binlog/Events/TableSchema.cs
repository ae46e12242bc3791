namespace PluginHost.Binlog.Events;

/// <summary>A table's columns as the schema (information_schema) describes them, used when a table map carries no metadata.</summary>
public sealed record TableSchema(string Database, string Table, IReadOnlyList<SchemaColumn> Columns, IReadOnlyList<int> PrimaryKey);
