namespace PluginHost.Binlog.Events;

/// <summary>A decoded binlog event.</summary>
public abstract class BinlogEvent
{
    protected BinlogEvent(BinlogEventHeader header) => Header = header;

    /// <summary>The common event header.</summary>
    public BinlogEventHeader Header { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Header.EventType} at {Header.Position} (next {Header.NextPosition})";
}
