namespace PluginHost.Sdk;

/// <summary>
/// A pipeline's resume point as a checkpoint store keeps it: just after the last transaction whose every event the
/// sink acknowledged (binlog file + position, and the GTID state when the server uses GTIDs).
/// </summary>
/// <param name="File">Binlog file to resume in.</param>
/// <param name="Position">Offset in <paramref name="File"/> to resume at.</param>
/// <param name="Gtid">GTID state at that point (MariaDB domain list or MySQL GTID set), or null.</param>
/// <param name="UpdatedAt">When the checkpoint was taken.</param>
/// <param name="EventsDelivered">Events the pipeline delivered up to this point (a running count).</param>
public sealed record CheckpointState(string File, long Position, string? Gtid, DateTimeOffset UpdatedAt, long EventsDelivered)
{
    /// <summary>Binlog time of the newest change delivered up to here (null before the first, and in records of older versions).</summary>
    public DateTimeOffset? LastEventTime { get; init; }

    /// <summary>A snapshot in progress, as JSON text the host writes and reads back (keep it as it is); null when none.</summary>
    public string? Snapshot { get; init; }
}
