namespace PluginHost.Binlog.Events;

/// <summary>MariaDB GTID_EVENT: opens an event group and names its GTID <c>domain-server-sequence</c>.</summary>
public sealed class MariaDbGtidEvent(BinlogEventHeader header, ulong sequence, uint domainId, byte flags, ulong? commitId)
    : BinlogEvent(header)
{
    public ulong Sequence { get; } = sequence;
    public uint DomainId { get; } = domainId;
    public uint ServerId => Header.ServerId;
    public byte Flags { get; } = flags;
    public ulong? CommitId { get; } = commitId;

    /// <summary>The group is a single statement (DDL) with no BEGIN/COMMIT around it.</summary>
    public bool IsStandalone => (Flags & 1) != 0;

    /// <summary>The text form <c>domain-server-sequence</c>.</summary>
    public string Gtid => $"{DomainId}-{ServerId}-{Sequence}";
}
