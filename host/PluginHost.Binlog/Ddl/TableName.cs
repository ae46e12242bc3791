namespace PluginHost.Binlog.Ddl;

/// <summary>A table, qualified by its database.</summary>
public readonly record struct TableName(string Database, string Table)
{
    public override string ToString() => $"{Database}.{Table}";
}
