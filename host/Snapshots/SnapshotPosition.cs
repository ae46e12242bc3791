namespace PluginHost.Snapshots;

/// <summary>A binlog position that orders a chunk against the stream.</summary>
/// <param name="File">Binlog file name.</param>
/// <param name="Offset">Offset in the file (the start of the next event).</param>
/// <param name="Gtid">The GTID position there, when known (MariaDB with <see cref="ChunkReaderOptions.ResolveGtid"/>;
/// MySQL's executed GTID set at a watermark).</param>
/// <param name="IsExact">True when the rows are exactly the table's state at this position (MariaDB's consistent
/// snapshot); false for a watermark (the rows are the state at some point between the low and the high watermark).</param>
internal sealed record SnapshotPosition(string File, long Offset, string? Gtid, bool IsExact)
{
    /// <inheritdoc />
    public override string ToString() => $"{File}:{Offset}{(Gtid is null ? "" : " (" + Gtid + ")")}{(IsExact ? "" : " watermark")}";
}

/// <summary>How a chunk learns its binlog position.</summary>
internal enum SnapshotPositionMode
{
    /// <summary>Consistent snapshot where the server offers its position (MariaDB), watermarks otherwise (MySQL).</summary>
    Auto,
    /// <summary>MariaDB: <c>START TRANSACTION WITH CONSISTENT SNAPSHOT</c> and <c>binlog_snapshot_file/position</c>, exact.</summary>
    ConsistentSnapshot,
    /// <summary>Any server: the binlog end before (low) and after (high) the chunk's SELECT; the stream between them is
    /// reconciled with the chunk (DBLog / Flink CDC).</summary>
    Watermark,
}
