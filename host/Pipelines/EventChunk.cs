using PluginHost.Binlog.Replication;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// Up to a thousand events in commit order passed from the reader to the sink stage. When
/// <see cref="TransactionEnd"/> is set, the chunk ends a transaction and that position becomes checkpointable once
/// the sink has acknowledged everything up to here.
/// </summary>
internal sealed class EventChunk(int capacity)
{
    public List<ChangeEvent> Events { get; } = new(capacity);
    public BinlogPosition? TransactionEnd { get; set; }
    public int Transactions { get; set; }

    /// <summary>Binlog time of the newest event in the chunk (seconds since epoch).</summary>
    public long LastEventTime { get; set; }
}
