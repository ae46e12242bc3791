namespace PluginHost.Binlog.Events;

/// <summary>STOP_EVENT: the server shut down; the file ends here.</summary>
public sealed class StopEvent(BinlogEventHeader header) : BinlogEvent(header);
