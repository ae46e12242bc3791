namespace PluginHost.Binlog.Events;

/// <summary>One column as described by information_schema.</summary>
public sealed record SchemaColumn(string Name, string DataType, bool IsUnsigned, int Collation, string[]? Labels);
