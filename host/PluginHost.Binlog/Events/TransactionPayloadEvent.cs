namespace PluginHost.Binlog.Events;

/// <summary>MySQL 8 TRANSACTION_PAYLOAD_EVENT: a whole transaction's events, compressed (zstd) into one event.</summary>
public sealed class TransactionPayloadEvent(BinlogEventHeader header, int compressionType, long uncompressedSize,
    IReadOnlyList<BinlogEvent> events) : BinlogEvent(header)
{
    /// <summary>0 = zstd, 255 = none.</summary>
    public int CompressionType { get; } = compressionType;
    public long UncompressedSize { get; } = uncompressedSize;

    /// <summary>The events inside, decoded (GTID is outside; BEGIN … rows … XID inside).</summary>
    public IReadOnlyList<BinlogEvent> Events { get; } = events;
}
