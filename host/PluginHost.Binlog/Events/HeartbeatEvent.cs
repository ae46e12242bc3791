namespace PluginHost.Binlog.Events;

/// <summary>HEARTBEAT_LOG_EVENT (v1 or v2): the server is alive and has nothing new; never written to files.</summary>
public sealed class HeartbeatEvent(BinlogEventHeader header, string logFile, ulong? logPosition = null) : BinlogEvent(header)
{
    /// <summary>The binlog file the server is currently sending.</summary>
    public string LogFile { get; } = logFile;

    /// <summary>The position in <see cref="LogFile"/> the server has sent up to (HEARTBEAT_LOG_EVENT_V2; for v1 the
    /// header's next position says it).</summary>
    public ulong? LogPosition { get; } = logPosition;
}
