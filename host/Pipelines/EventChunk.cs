using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;

namespace PluginHost.Pipelines;

/// <summary>
/// Up to a thousand changed rows in commit order passed from the reader to the sink stage, still in their compact
/// decoded form (they become sdk events on the sink side, so the queue holds little memory). When
/// <see cref="TransactionEnd"/> is set, the chunk ends a transaction and that position becomes checkpointable once
/// the sink has acknowledged everything up to here.
/// </summary>
internal sealed class EventChunk(int capacity)
{
    public List<PendingRow> Rows { get; } = new(capacity);
    public BinlogPosition? TransactionEnd { get; set; }
    public int Transactions { get; set; }

    /// <summary>Estimated memory the rows hold (their share of the raw event, the decoded values, the bookkeeping).</summary>
    public long Bytes { get; set; }

    /// <summary>Binlog time of the newest event in the chunk (seconds since epoch).</summary>
    public long LastEventTime { get; set; }
}

/// <summary>One changed row waiting in the queue, with the transaction context it needs to become an event.</summary>
internal readonly record struct PendingRow(RowsEvent Event, int Row, string? Gtid, string? File, long Position, string TransactionId, int Index);
