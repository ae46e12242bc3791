using System.Globalization;
using PluginHost.Binlog.Protocol;
using PluginHost.Sdk;

namespace PluginHost.Snapshots;

/// <summary>
/// Reads a table chunk by chunk into sdk <see cref="ChangeEvent"/>s (<see cref="ChangeOperation.Read"/>) with the values
/// the stream gives the same rows, each chunk with the binlog position it is consistent with. Read-only and lock-free:
/// one <c>SELECT</c> per chunk by keyset (<c>WHERE key &gt; last ORDER BY key LIMIT n</c>) inside
/// <c>START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY</c> (MariaDB, exact position) or between two watermarks
/// (MySQL). One connection, one chunk at a time; not thread-safe.
/// </summary>
internal sealed class ChunkReader : IAsyncDisposable
{
    private readonly ConnectionOptions _connectionOptions;
    private readonly ChunkReaderOptions _options;
    private readonly HashSet<(string Table, string Where)> _checkedWheres = new();
    private MySqlProtocolConnection? _connection;

    private ChunkReader(ConnectionOptions connection, ChunkReaderOptions options)
    {
        _connectionOptions = connection;
        _options = options;
    }

    /// <summary>True when the server is MariaDB.</summary>
    public bool IsMariaDb { get; private set; }

    /// <summary>The mode chunks use: <see cref="ChunkReaderOptions.PositionMode"/> with Auto decided by the server.</summary>
    public SnapshotPositionMode PositionMode => _options.PositionMode switch
    {
        SnapshotPositionMode.Auto => IsMariaDb ? SnapshotPositionMode.ConsistentSnapshot : SnapshotPositionMode.Watermark,
        var m => m,
    };

    /// <summary>Connects (and sets the session up: UTC, raw result charsets, repeatable read).</summary>
    public static async Task<ChunkReader> OpenAsync(ConnectionOptions connection, ChunkReaderOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var reader = new ChunkReader(connection, options ?? new ChunkReaderOptions());
        await reader.ConnectionAsync(ct).ConfigureAwait(false);
        return reader;
    }

    /// <summary>Every base table the user can see, ordered by database and name; on the reader's own connection (no second one).</summary>
    public async Task<IReadOnlyList<(string Database, string Table)>> ListTablesAsync(CancellationToken ct = default)
    {
        var c = await ConnectionAsync(ct).ConfigureAwait(false);
        var result = await c.QueryAsync("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' " +
                                        "ORDER BY TABLE_SCHEMA, TABLE_NAME", ct).ConfigureAwait(false);
        return result.Rows.Select(r => (r[0]!, r[1]!)).ToArray();
    }

    /// <summary>Describes a table: columns, chunk key, estimated rows.</summary>
    /// <exception cref="SnapshotTableNotFoundException">No such table (or the user cannot see it), or a view.</exception>
    public async Task<SnapshotTable> DescribeAsync(string database, string table, CancellationToken ct = default)
    {
        var c = await ConnectionAsync(ct).ConfigureAwait(false);
        return await SnapshotTable.LoadAsync(c, database, table, ct).ConfigureAwait(false);
    }

    /// <summary>Checks a user's condition: refused text (see <see cref="SnapshotWhere"/>), then the server's verdict on
    /// <c>SELECT 1 FROM t WHERE (where) LIMIT 0</c>. Remembered per table once it passes.</summary>
    /// <exception cref="SnapshotWhereException">Refused or rejected, with the reason.</exception>
    public async Task CheckWhereAsync(SnapshotTable table, string where, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (_checkedWheres.Contains((table.FullName, where))) return;
        SnapshotWhere.Check(where);
        var c = await ConnectionAsync(ct).ConfigureAwait(false);
        try
        {
            await c.ExecuteAsync($"SELECT 1 FROM {ChunkSql.TableName(table)} WHERE ({where}) LIMIT 0", ct).ConfigureAwait(false);
        }
        catch (MySqlServerException e)
        {
            throw new SnapshotWhereException(where, $"Snapshot 'where' is not valid for {table.FullName}: {e.Message} (where: {SnapshotWhere.Shorten(where)})", e);
        }
        _checkedWheres.Add((table.FullName, where));
    }

    /// <summary>The end of the binlog now (a watermark), e.g. where the stream starts after a snapshot on MySQL.</summary>
    public async Task<SnapshotPosition> CurrentPositionAsync(CancellationToken ct = default) =>
        await BinlogStatus.WatermarkAsync(await ConnectionAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false);

    /// <summary>
    /// Reads one chunk into a list: the rows after <paramref name="afterKey"/> (null: from the start) in key order,
    /// at most <paramref name="limit"/>, that match <paramref name="where"/> (optional). Keyed tables only (a keyless
    /// table is one pass: use the callback overload, which streams).
    /// </summary>
    public async Task<SnapshotChunk> ReadChunkAsync(SnapshotTable table, SnapshotKey? afterKey, string? where, int limit, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.ChunkKey.Count == 0)
            throw new InvalidOperationException($"{table.FullName} has no primary key or unique NOT NULL key: it is read in one streamed pass, not into a list.");
        var events = new List<ChangeEvent>(Math.Min(limit, 65_536));
        var result = await ReadChunkAsync(table, afterKey, where, limit, (e, _) => { events.Add(e); return ValueTask.CompletedTask; }, ct).ConfigureAwait(false);
        return new SnapshotChunk(events, result);
    }

    /// <summary>
    /// Reads one chunk, handing each row's event to <paramref name="onRow"/> as it arrives (nothing buffered). A keyless
    /// table is read whole in this one call (<paramref name="afterKey"/> must be null, <paramref name="limit"/> is
    /// ignored), inside one transaction. Events carry the chunk's exact position, or its low watermark.
    /// </summary>
    /// <exception cref="SnapshotWhereException"><paramref name="where"/> is refused or rejected.</exception>
    /// <exception cref="SnapshotTableNotFoundException">The table no longer exists.</exception>
    public Task<ChunkResult> ReadChunkAsync(SnapshotTable table, SnapshotKey? afterKey, string? where, int limit,
        Func<ChangeEvent, CancellationToken, ValueTask> onRow, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(onRow);
        var count = 0;
        return ReadCoreAsync(table, afterKey, where, limit, (row, collations, position, timestamp) =>
            onRow(SnapshotEvent.Create(table, position, timestamp, count++, (table.Columns, row, collations),
                static (s, i) => s.row.IsNull(i) ? null : SnapshotValues.ToObject(s.Columns[i], s.row[i], s.collations[i])), ct), ct);
    }

    /// <summary>
    /// Reads one chunk of a keyed table into <see cref="SnapshotRows"/>: the values as the server sent them, turned into
    /// events or JSON only where they are written. Same reads, positions and errors as the other overloads.
    /// </summary>
    public async Task<(SnapshotRows Rows, ChunkResult Result)> ReadRowsAsync(SnapshotTable table, SnapshotKey? afterKey, string? where, int limit,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.ChunkKey.Count == 0)
            throw new InvalidOperationException($"{table.FullName} has no primary key or unique NOT NULL key: it is read in one streamed pass, not into a list.");
        SnapshotRows? rows = null;
        var result = await ReadCoreAsync(table, afterKey, where, limit, (row, collations, position, timestamp) =>
        {
            (rows ??= new SnapshotRows(table, collations, position, timestamp, limit, _options.PooledRows, table.RowBytesHint)).Add(row);
            return ValueTask.CompletedTask;
        }, ct).ConfigureAwait(false);
        if (rows is { Count: > 0 }) table.RowBytesHint = (int)Math.Min(1 << 20, rows.DataBytes / rows.Count);
        return (rows ?? new SnapshotRows(table, table.Columns.Select(c => c.Collation).ToArray(), result.LowWatermark, Now(), 1), result);
    }

    private delegate ValueTask RawRowHandler(RawRow row, int[] collations, SnapshotPosition position, DateTimeOffset timestamp);

    private static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    private async Task<ChunkResult> ReadCoreAsync(SnapshotTable table, SnapshotKey? afterKey, string? where, int limit, RawRowHandler onRow, CancellationToken ct)
    {
        var keyed = table.ChunkKey.Count > 0;
        if (keyed && limit <= 0) throw new ArgumentOutOfRangeException(nameof(limit), limit, "A chunk has at least one row.");
        if (!keyed && afterKey is not null) throw new ArgumentException($"{table.FullName} has no chunk key: it is read in one pass, without a resume key.", nameof(afterKey));
        if (where is not null) await CheckWhereAsync(table, where, ct).ConfigureAwait(false);
        var sql = ChunkSql.Select(table, afterKey, where, keyed ? limit : 0);
        var c = await ConnectionAsync(ct).ConfigureAwait(false);
        var exact = PositionMode == SnapshotPositionMode.ConsistentSnapshot;
        try
        {
            SnapshotPosition low;
            if (exact)
            {
                await c.ExecuteAsync("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", ct).ConfigureAwait(false);
                low = await BinlogStatus.SnapshotAsync(c, _options.ResolveGtid, ct).ConfigureAwait(false);
            }
            else
            {
                low = await BinlogStatus.WatermarkAsync(c, ct).ConfigureAwait(false);
            }
            if (_options.BeforeSelect is { } hook) await hook(ct).ConfigureAwait(false);

            var (rows, lastKey) = await SelectAsync(c, table, sql, low, onRow, ct).ConfigureAwait(false);
            SnapshotPosition position;
            if (exact)
            {
                await c.ExecuteAsync("COMMIT", ct).ConfigureAwait(false);
                position = low;
            }
            else
            {
                position = await BinlogStatus.WatermarkAsync(c, ct).ConfigureAwait(false);
            }
            return new ChunkResult(rows, lastKey, !keyed || rows < limit, position, low);
        }
        catch (MySqlServerException e) when (e.ErrorCode == 1146)
        {
            await DropConnectionAsync().ConfigureAwait(false);
            throw new SnapshotTableNotFoundException(table.Database, table.Table, $"Table '{table.FullName}' does not exist any more: {e.Message}");
        }
        catch
        {
            // Mid-result or mid-transaction (a failed callback, a cancellation): close rather than drain a large result.
            await DropConnectionAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<(int Rows, SnapshotKey? LastKey)> SelectAsync(MySqlProtocolConnection c, SnapshotTable table, string sql,
        SnapshotPosition position, RawRowHandler onRow, CancellationToken ct)
    {
        await using var reader = await c.QueryRowsAsync(sql, ct).ConfigureAwait(false);
        if (reader.Columns.Count != table.Columns.Count)
            throw new SnapshotException($"{table.FullName} returned {reader.Columns.Count} columns where {table.Columns.Count} were described (the table changed?).");
        var collations = reader.Columns.Select(d => d.CharacterSet).ToArray();
        var key = new KeyCapture(table.ChunkKey);
        var timestamp = Now();
        var count = 0;
        while (reader.TryRead() || await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var row = reader.Row;
            key.Capture(row);
            count++;
            await onRow(row, collations, position, timestamp).ConfigureAwait(false);
        }
        return (count, count == 0 ? null : key.ToKey());
    }

    private async Task<MySqlProtocolConnection> ConnectionAsync(CancellationToken ct)
    {
        if (_connection is { IsUsable: true }) return _connection;
        await DropConnectionAsync().ConfigureAwait(false);
        var c = await MySqlProtocolConnection.OpenAsync(_connectionOptions with { Database = null }, ct).ConfigureAwait(false);
        try
        {
            c.ReadTimeout = _options.ReadTimeout;
            var seconds = Math.Max(1, (long)_options.ReadTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            // UTC TIMESTAMP text; values in their column's charset (not converted); CHAR never padded; no statement time limit.
            await c.ExecuteAsync($"SET SESSION time_zone = '+00:00', character_set_results = NULL, net_write_timeout = {seconds}, " +
                                 "sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), ',PAD_CHAR_TO_FULL_LENGTH,', ','))" +
                                 (c.IsMariaDb ? ", max_statement_time = 0" : ", max_execution_time = 0"), ct).ConfigureAwait(false);
            await c.ExecuteAsync("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", ct).ConfigureAwait(false);
        }
        catch
        {
            await c.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        IsMariaDb = c.IsMariaDb;
        _connection = c;
        return c;
    }

    private async Task DropConnectionAsync()
    {
        var c = _connection;
        _connection = null;
        if (c is not null) await c.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(DropConnectionAsync());

    /// <summary>The key columns of the last row read, copied into reused buffers.</summary>
    private sealed class KeyCapture(IReadOnlyList<int> columns)
    {
        private readonly byte[][] _buffers = columns.Select(_ => new byte[32]).ToArray();
        private readonly int[] _lengths = new int[columns.Count];

        public void Capture(RawRow row)
        {
            for (var k = 0; k < columns.Count; k++)
            {
                var value = row[columns[k]];
                if (value.Length > _buffers[k].Length) _buffers[k] = new byte[Math.Max(value.Length, _buffers[k].Length * 2)];
                value.CopyTo(_buffers[k]);
                _lengths[k] = value.Length;
            }
        }

        public SnapshotKey? ToKey() => columns.Count == 0 ? null : new SnapshotKey(_buffers.Select((b, k) => b.AsSpan(0, _lengths[k]).ToArray()).ToArray());
    }
}
