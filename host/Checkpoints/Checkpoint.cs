namespace PluginHost.Checkpoints;

/// <summary>
/// Where a pipeline resumes: just after the last transaction whose every event the sink acknowledged.
/// File+position is exact on the same server; the GTID state allows resuming on another server of the topology.
/// </summary>
/// <param name="LastEventTime">Binlog time of the newest change delivered up to here (null before the first; absent in
/// checkpoints written by older versions).</param>
/// <param name="Snapshot">A snapshot in progress (or an <c>initial_only</c> one completed), null otherwise.</param>
internal sealed record Checkpoint(string File, long Position, string? Gtid, DateTimeOffset UpdatedAt, long EventsDelivered, DateTimeOffset? LastEventTime = null,
    SnapshotProgress? Snapshot = null)
{
    public override string ToString() => Binlog.Replication.PositionText.Format(File, Position, Gtid);
}
