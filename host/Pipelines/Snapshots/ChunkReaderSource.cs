using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;
using PluginHost.Config;
using PluginHost.Sdk;
using PluginHost.Snapshots;

namespace PluginHost.Pipelines;

/// <summary>The snapshot source of a pipeline: our own protocol client reading chunks (<see cref="ChunkReader"/>) from its source server.</summary>
internal sealed class ChunkReaderSource : ISnapshotSource
{
    private static readonly string[] SystemSchemas = ["mysql", "information_schema", "performance_schema", "sys"];
    private readonly ChunkReader _reader;

    private ChunkReaderSource(ChunkReader reader) => _reader = reader;

    /// <summary>Connects to <paramref name="connection"/>; chunks are placed by <paramref name="consistency"/>.</summary>
    public static async Task<ISnapshotSource> OpenAsync(ConnectionOptions connection, SnapshotConsistency consistency, CancellationToken ct)
    {
        var mode = consistency switch
        {
            SnapshotConsistency.SnapshotPosition => SnapshotPositionMode.ConsistentSnapshot,
            SnapshotConsistency.Watermark => SnapshotPositionMode.Watermark,
            _ => SnapshotPositionMode.Auto,
        };
        var reader = await ChunkReader.OpenAsync(connection, new ChunkReaderOptions { PositionMode = mode, PooledRows = true }, ct).ConfigureAwait(false);
        return new ChunkReaderSource(reader);
    }

    public async Task<IReadOnlyList<(string Database, string Table)>> ListTablesAsync(Func<string, string, bool> include, CancellationToken ct)
    {
        // On the chunk reader's connection: a second connection only for this list cost a handshake at the snapshot's start.
        var all = await _reader.ListTablesAsync(ct).ConfigureAwait(false);
        return all.Where(t => !SystemSchemas.Contains(t.Database, StringComparer.OrdinalIgnoreCase) && include(t.Database, t.Table)).ToList();
    }

    public async Task<SnapshotTableHandle> DescribeAsync(string database, string table, CancellationToken ct)
    {
        try
        {
            var t = await _reader.DescribeAsync(database, table, ct).ConfigureAwait(false);
            return new SnapshotTableHandle(t.Database, t.Table, t.ChunkKey.Select(i => t.Columns[i].Name).ToArray(), t.EstimatedRows, t);
        }
        catch (SnapshotTableNotFoundException e)
        {
            throw new SnapshotInputException("tables", e.Message);
        }
    }

    public async Task ValidateWhereAsync(SnapshotTableHandle table, string where, CancellationToken ct)
    {
        try
        {
            await _reader.CheckWhereAsync((SnapshotTable)table.Handle, where, ct).ConfigureAwait(false);
        }
        catch (SnapshotWhereException e)
        {
            throw new SnapshotInputException("where", e.Message);
        }
    }

    public async Task<SnapshotChunk> ReadChunkAsync(SnapshotTableHandle table, string? afterKey, string? where, int limit, CancellationToken ct)
    {
        (SnapshotRows Rows, ChunkResult Result) chunk;
        try
        {
            chunk = await _reader.ReadRowsAsync((SnapshotTable)table.Handle, afterKey is null ? null : SnapshotKey.Parse(afterKey), where, limit, ct).ConfigureAwait(false);
        }
        catch (SnapshotWhereException e)
        {
            throw new SnapshotInputException("where", e.Message);
        }
        catch (SnapshotTableNotFoundException e)
        {
            throw new SnapshotInputException("tables", e.Message);
        }
        var r = chunk.Result;
        return new SnapshotChunk([], r.LastKey?.ToString() ?? afterKey, r.IsExhausted, new BinlogPosition(r.Position.File, r.Position.Offset, r.Position.Gtid), r.Position.IsExact)
        {
            Raw = chunk.Rows,
        };
    }

    public async Task<SnapshotPass> ReadAllAsync(SnapshotTableHandle table, string? where, Func<ChangeEvent, ValueTask> row, CancellationToken ct)
    {
        var r = await _reader.ReadChunkAsync((SnapshotTable)table.Handle, null, where, 0, (e, _) => row(e), ct).ConfigureAwait(false);
        return new SnapshotPass(r.Rows, new BinlogPosition(r.Position.File, r.Position.Offset, r.Position.Gtid), r.Position.IsExact);
    }

    public ValueTask DisposeAsync() => _reader.DisposeAsync();
}
