namespace PluginHost.Binlog.Protocol.Commands;

/// <summary>Command bytes of the client/server protocol used by this client.</summary>
internal enum CommandCode : byte
{
    /// <summary>COM_QUIT.</summary>
    Quit = 0x01,

    /// <summary>COM_QUERY.</summary>
    Query = 0x03,

    /// <summary>COM_PING.</summary>
    Ping = 0x0E,

    /// <summary>COM_BINLOG_DUMP.</summary>
    BinlogDump = 0x12,

    /// <summary>COM_REGISTER_SLAVE.</summary>
    RegisterSlave = 0x15,

    /// <summary>COM_BINLOG_DUMP_GTID (MySQL).</summary>
    BinlogDumpGtid = 0x1E,
}
