namespace PluginHost.Binlog.Protocol;

/// <summary>Flags of COM_BINLOG_DUMP (0x12).</summary>
[Flags]
public enum BinlogDumpFlags : ushort
{
    /// <summary>Blocking dump: the server keeps the stream open and waits for new events.</summary>
    None = 0,

    /// <summary>BINLOG_DUMP_NON_BLOCK: the server sends an EOF packet at the end of the binlog instead of waiting.</summary>
    NonBlocking = 1,

    /// <summary>MariaDB BINLOG_SEND_ANNOTATE_ROWS_EVENT: also send ANNOTATE_ROWS events (the SQL text of row events).</summary>
    SendAnnotateRowsEvent = 2,
}
