namespace PluginHost.Binlog.Protocol;

/// <summary>
/// A text-protocol result set read row by row (<see cref="MySqlProtocolConnection.QueryRowsAsync"/>): nothing is
/// buffered beyond the packet being read, and values stay raw bytes (<see cref="RawRow"/>). While it is open the
/// connection serves nothing else; disposing it reads (and drops) the rows left and frees the connection.
/// </summary>
public sealed class MySqlRowReader : IAsyncDisposable
{
    private readonly MySqlProtocolConnection _connection;
    private bool _done;
    private bool _disposed;

    internal MySqlRowReader(MySqlProtocolConnection connection, ColumnDefinition[] columns)
    {
        _connection = connection;
        Columns = columns;
        Row = new RawRow(columns.Length);
        _done = columns.Length == 0;
    }

    /// <summary>The columns of the result (empty when the statement returned only an OK packet).</summary>
    public IReadOnlyList<ColumnDefinition> Columns { get; }

    /// <summary>The current row after <see cref="ReadAsync"/> returned true; the same instance for every row.</summary>
    public RawRow Row { get; }

    /// <summary>Rows read so far.</summary>
    public long RowsRead { get; private set; }

    /// <summary>Moves to the next row; false at the end of the result.</summary>
    /// <exception cref="MySqlServerException">The server reported an error while sending rows (e.g. the query was killed).</exception>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_done) return false;
        var packet = await _connection.ReadRowPacketAsync(cancellationToken).ConfigureAwait(false);
        if (packet is not { } row)
        {
            _done = true;
            return false;
        }

        return Accept(row);
    }

    /// <summary>
    /// Moves to the next row when it is already received (no wait, no asynchronous step): a loop over a large result
    /// spends most rows here. False when the result ended or the next row has not arrived: then call
    /// <see cref="ReadAsync"/> (<c>while (r.TryRead() || await r.ReadAsync())</c>).
    /// </summary>
    public bool TryRead()
    {
        if (_done || !_connection.TryReadBufferedRowPacket(out ReadOnlyMemory<byte> row, out bool ended)) return false;
        if (ended)
        {
            _done = true;
            return false;
        }

        return Accept(row);
    }

    private bool Accept(ReadOnlyMemory<byte> row)
    {
        try
        {
            Row.Load(row);
        }
        catch (MySqlProtocolException ex) when (_connection.Fail(ex))
        {
            throw;
        }

        RowsRead++;
        return true;
    }

    /// <summary>Reads the rows left (and any further result sets) so that the connection can run the next command.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed || !_connection.IsUsable) return;
        _disposed = true;
        while (await ReadAsync().ConfigureAwait(false))
        {
        }

        await _connection.EndRowsAsync().ConfigureAwait(false);
    }
}
