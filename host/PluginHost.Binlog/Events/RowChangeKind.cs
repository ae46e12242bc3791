namespace PluginHost.Binlog.Events;

/// <summary>The kind of change a rows event carries.</summary>
public enum RowChangeKind : byte
{
    Insert,
    Update,
    Delete,
}
