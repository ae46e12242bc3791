using PluginHost.Binlog.Gtid;

namespace PluginHost.Binlog.Events;

/// <summary>MariaDB GTID_LIST_EVENT: the last GTID of each replication domain before this file.</summary>
public sealed class MariaDbGtidListEvent(BinlogEventHeader header, IReadOnlyList<MariaDbGtid> gtids, uint flags) : BinlogEvent(header)
{
    public IReadOnlyList<MariaDbGtid> Gtids { get; } = gtids;
    public uint Flags { get; } = flags;
}
