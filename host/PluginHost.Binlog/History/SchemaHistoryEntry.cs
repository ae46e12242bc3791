using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;

namespace PluginHost.Binlog.History;

/// <summary>What a <see cref="SchemaHistoryEntry"/> records.</summary>
public enum SchemaHistoryEntryKind
{
    /// <summary>The table has the columns of <see cref="SchemaHistoryEntry.Schema"/> from here on.</summary>
    Table,

    /// <summary>The table is gone (dropped, or renamed away).</summary>
    Dropped,

    /// <summary>The table's columns are not known for certain from here on (<see cref="SchemaHistoryEntry.Reason"/>): its events carry positional names.</summary>
    Uncertain,

    /// <summary>The database's default collation for tables created later (<see cref="SchemaHistoryEntry.Collation"/>); <see cref="SchemaHistoryEntry.Table"/> is empty.</summary>
    Database,
}

/// <summary>One change of the schema history, taking effect at <see cref="Position"/> (the end of the event that made it).</summary>
public sealed record SchemaHistoryEntry(BinlogPosition Position, SchemaHistoryEntryKind Kind, string Database, string Table,
    TableSchema? Schema = null, string? Reason = null, int Collation = 0);
