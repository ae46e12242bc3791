namespace PluginHost.Binlog.Events;

/// <summary>An event this decoder does not interpret; it was skipped by its length.</summary>
public sealed class UnknownEvent(BinlogEventHeader header) : BinlogEvent(header);
