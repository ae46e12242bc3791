namespace PluginHost.Binlog.Events;

/// <summary>MySQL GTID_LOG_EVENT / ANONYMOUS_GTID_LOG_EVENT / GTID_TAGGED_LOG_EVENT (8.3+): opens a transaction and
/// names its GTID.</summary>
public sealed class MySqlGtidEvent(BinlogEventHeader header, byte flags, Guid serverUuid, long transactionNumber,
    long lastCommitted, long sequenceNumber, ulong? immediateCommitMicros, string tag = "") : BinlogEvent(header)
{
    public byte Flags { get; } = flags;

    /// <summary>The source server's UUID (bytes in the order MySQL prints them).</summary>
    public Guid ServerUuid { get; } = serverUuid;

    /// <summary>The GTID's tag (GTID_TAGGED_LOG_EVENT), "" when untagged.</summary>
    public string Tag { get; } = tag;

    public long TransactionNumber { get; } = transactionNumber;
    public long LastCommitted { get; } = lastCommitted;
    public long SequenceNumber { get; } = sequenceNumber;

    /// <summary>Commit time on the immediate source, microseconds since the epoch (MySQL 8).</summary>
    public ulong? ImmediateCommitMicros { get; } = immediateCommitMicros;

    /// <summary>True for ANONYMOUS_GTID (GTID mode off).</summary>
    public bool IsAnonymous => Header.EventType == BinlogEventType.AnonymousGtid;

    /// <summary><c>uuid:number</c> or <c>uuid:tag:number</c>, or null for anonymous transactions.</summary>
    public string? Gtid => IsAnonymous ? null : Tag.Length > 0 ? $"{ServerUuid:D}:{Tag}:{TransactionNumber}" : $"{ServerUuid:D}:{TransactionNumber}";

    /// <summary>Builds a Guid from the 16 bytes as MySQL prints them (big-endian text order).</summary>
    public static Guid UuidFromBytes(ReadOnlySpan<byte> b) => new(b, bigEndian: true);
}
