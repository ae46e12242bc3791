namespace PluginHost.Binlog.Events;

/// <summary>XID_EVENT: the commit of a transactional (InnoDB) transaction.</summary>
public sealed class XidEvent(BinlogEventHeader header, ulong xid) : BinlogEvent(header)
{
    public ulong Xid { get; } = xid;
}
