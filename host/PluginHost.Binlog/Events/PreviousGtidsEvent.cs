using PluginHost.Binlog.Gtid;

namespace PluginHost.Binlog.Events;

/// <summary>MySQL PREVIOUS_GTIDS_LOG_EVENT: the GTID set executed before this file.</summary>
public sealed class PreviousGtidsEvent(BinlogEventHeader header, MySqlGtidSet gtidSet) : BinlogEvent(header)
{
    public MySqlGtidSet GtidSet { get; } = gtidSet;
}
