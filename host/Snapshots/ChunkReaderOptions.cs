namespace PluginHost.Snapshots;

/// <summary>Settings of a <see cref="ChunkReader"/>.</summary>
internal sealed record ChunkReaderOptions
{
    /// <summary>How each chunk learns its binlog position (default: exact where the server offers it).</summary>
    public SnapshotPositionMode PositionMode { get; init; } = SnapshotPositionMode.Auto;

    /// <summary>MariaDB: also resolve each exact position to its GTID position (<c>BINLOG_GTID_POS</c>, which reads the
    /// binlog file from its start: one extra query per chunk).</summary>
    public bool ResolveGtid { get; init; }

    /// <summary>How long a query may go without sending data (a chunk whose <c>where</c> skips many rows, a keyless table
    /// whose consumer is slow); also the server's <c>net_write_timeout</c> for the session.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// <see cref="ChunkReader.ReadRowsAsync"/> keeps rows in pooled arrays (<see cref="SnapshotRows"/>): for a reader whose
    /// every row handed on is taken exactly once (a pipeline's).
    /// </summary>
    public bool PooledRows { get; init; }

    /// <summary>Test hook: runs once the chunk's snapshot or low watermark is taken, before its SELECT.</summary>
    internal Func<CancellationToken, Task>? BeforeSelect { get; init; }
}
