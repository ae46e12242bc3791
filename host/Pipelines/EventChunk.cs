using PluginHost.Sdk;
using PluginHost.Binlog.Replication;

namespace PluginHost.Pipelines;

/// <summary>
/// Up to a thousand changed rows in commit order passed from the reader to the sink stage, already sdk events (made
/// on the reader's thread; the queue's memory is bounded by queue_bytes). When
/// <see cref="TransactionEnd"/> is set, the chunk ends a transaction and that position becomes checkpointable once
/// the sink has acknowledged everything up to here.
/// </summary>
internal sealed class EventChunk(int capacity)
{
    public List<ChangeEvent> Rows { get; private set; } = new(capacity);

    /// <summary>The transform stage's output in place of the rows read (fewer when dropped, more when fanned out).</summary>
    public void ReplaceRows(List<ChangeEvent> transformed) => Rows = transformed;

    /// <summary>Snapshot rows held raw instead of <see cref="Rows"/> (which is then empty), made into events or JSON by the writer.</summary>
    public SnapshotSlice? Raw { get; set; }
    public BinlogPosition? TransactionEnd { get; set; }

    /// <summary>The snapshot's progress as of <see cref="TransactionEnd"/> (what its checkpoint carries), null when none.</summary>
    public Checkpoints.SnapshotProgress? Snapshot { get; set; }
    public int Transactions { get; set; }

    /// <summary>Estimated memory the rows hold (their share of the raw event, the decoded values, the bookkeeping).</summary>
    public long Bytes { get; set; }

    /// <summary>Binlog time of the newest event in the chunk (seconds since epoch).</summary>
    public long LastEventTime { get; set; }
}
