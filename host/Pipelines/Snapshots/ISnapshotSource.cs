using PluginHost.Binlog.Replication;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// Where a snapshot reads existing rows: the source database, read-only, without locks. One per snapshot run (it
/// holds a connection); not thread-safe.
/// </summary>
internal interface ISnapshotSource : IAsyncDisposable
{
    /// <summary>The base tables (not views) of the server that <paramref name="include"/> takes, in name order.</summary>
    Task<IReadOnlyList<(string Database, string Table)>> ListTablesAsync(Func<string, string, bool> include, CancellationToken ct);

    /// <summary>A table's columns, chunk key and estimated rows; a clear <see cref="SnapshotInputException"/> when it does not exist.</summary>
    Task<SnapshotTableHandle> DescribeAsync(string database, string table, CancellationToken ct);

    /// <summary>Throws <see cref="SnapshotInputException"/> naming <c>where</c> when the server refuses the condition on the table.</summary>
    Task ValidateWhereAsync(SnapshotTableHandle table, string where, CancellationToken ct);

    /// <summary>
    /// Reads up to <paramref name="limit"/> rows after <paramref name="afterKey"/> (null: from the first) in key order,
    /// in one consistent read, and the binlog position that read is consistent with: exact where the server offers it
    /// (and <c>snapshot.consistency</c> allows), else a high watermark taken after the read.
    /// </summary>
    Task<SnapshotChunk> ReadChunkAsync(SnapshotTableHandle table, string? afterKey, string? where, int limit, CancellationToken ct);

    /// <summary>A table without a usable key: every row in one consistent read, handed to <paramref name="row"/> as it streams.</summary>
    Task<SnapshotPass> ReadAllAsync(SnapshotTableHandle table, string? where, Func<ChangeEvent, ValueTask> row, CancellationToken ct);
}

/// <summary>What a snapshot knows of a table.</summary>
/// <param name="KeyColumns">The chunk key's columns (primary key, else a unique key of NOT NULL columns); empty: none.</param>
/// <param name="EstimatedRows">The server's estimate (information_schema.TABLES.TABLE_ROWS), for progress.</param>
/// <param name="Handle">The reader's own description, passed back to it.</param>
internal sealed record SnapshotTableHandle(string Database, string Table, IReadOnlyList<string> KeyColumns, long EstimatedRows, object Handle)
{
    public bool HasKey => KeyColumns.Count > 0;
}

/// <summary>One chunk's rows (events with op read), the key of its last row, and where it stands in the binlog.</summary>
/// <param name="Rows">The rows as events (empty when they are held as <see cref="Raw"/>).</param>
/// <param name="Exhausted">No rows after this chunk.</param>
/// <param name="Position">The binlog position the rows are consistent with (exact), or a high watermark.</param>
internal sealed record SnapshotChunk(IReadOnlyList<ChangeEvent> Rows, string? LastKey, bool Exhausted, BinlogPosition Position, bool Exact)
{
    /// <summary>The rows as the server sent them, made into events (or JSON lines) only where they are written.</summary>
    public Snapshots.SnapshotRows? Raw { get; init; }

    public int Count => Raw?.Count ?? Rows.Count;
}

/// <summary>A whole-table pass: rows handed on, and the position they are consistent with.</summary>
internal sealed record SnapshotPass(long Rows, BinlogPosition Position, bool Exact);

/// <summary>A snapshot asked of something that is not there or not valid (a table, a <c>where</c>): a 4xx, nothing changes.</summary>
internal sealed class SnapshotInputException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
