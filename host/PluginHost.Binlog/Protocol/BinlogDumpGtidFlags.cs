namespace PluginHost.Binlog.Protocol;

/// <summary>Flags of MySQL COM_BINLOG_DUMP_GTID (0x1e).</summary>
[Flags]
public enum BinlogDumpGtidFlags : ushort
{
    /// <summary>Blocking dump.</summary>
    None = 0,

    /// <summary>BINLOG_DUMP_NON_BLOCK: EOF packet at the end of the binlog instead of waiting.</summary>
    NonBlocking = 1,

    /// <summary>BINLOG_THROUGH_POSITION: the file name and position are used.</summary>
    ThroughPosition = 2,

    /// <summary>BINLOG_THROUGH_GTID: the GTID set is used (always set by this client, since it always sends the GTID set).</summary>
    ThroughGtid = 4,
}
