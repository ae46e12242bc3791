namespace PluginHost.Binlog.Events;

/// <summary>HEARTBEAT_LOG_EVENT (v1 or v2): the server is alive and has nothing new; never written to files.</summary>
public sealed class HeartbeatEvent(BinlogEventHeader header, string logFile) : BinlogEvent(header)
{
    /// <summary>The binlog file the server is currently sending.</summary>
    public string LogFile { get; } = logFile;
}
