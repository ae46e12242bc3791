namespace PluginHost.Checkpoints;

/// <summary>
/// Where a pipeline resumes: just after the last transaction whose every event the sink acknowledged.
/// File+position is exact on the same server; the GTID state allows resuming on another server of the topology.
/// </summary>
public sealed record Checkpoint(string File, long Position, string? Gtid, DateTimeOffset UpdatedAt, long EventsDelivered)
{
    public override string ToString() => Binlog.Replication.PositionText.Format(File, Position, Gtid);
}
