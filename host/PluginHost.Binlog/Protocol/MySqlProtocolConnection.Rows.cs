using PluginHost.Binlog.Protocol.Commands;

namespace PluginHost.Binlog.Protocol;

/// <summary>Streaming text-protocol queries: a result read row by row as raw bytes.</summary>
public sealed partial class MySqlProtocolConnection
{
    private ServerStatusFlags _rowsStatus;
    private bool _rowsEnded;

    /// <summary>
    /// Runs a statement with the text protocol and returns a reader over its first result set, row by row, values as raw
    /// bytes (no whole result in memory, no string conversion). Rows larger than one packet (16 MB) are joined. Dispose
    /// the reader before the next command; further result sets are read and discarded then.
    /// </summary>
    /// <param name="sql">The statement.</param>
    /// <param name="cancellationToken">Cancellation (breaks the connection if it interrupts the exchange).</param>
    /// <exception cref="MySqlServerException">The server reported an error.</exception>
    public async Task<MySqlRowReader> QueryRowsAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        BeginCommand();
        try
        {
            await SendCommandAsync(CommandCode.Query, sql, cancellationToken).ConfigureAwait(false);
            ReadOnlyMemory<byte> packet = await _channel.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            int columnCount = ParseResultHeader(packet.Span, out ExecuteResult? ok);
            if (ok is not null)
            {
                _rowsStatus = ok.Status;
                _rowsEnded = true;
                return new MySqlRowReader(this, []);
            }

            var columns = new ColumnDefinition[columnCount];
            for (int i = 0; i < columnCount; i++)
            {
                packet = await _channel.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
                columns[i] = TextResultParser.ParseColumnDefinition(packet.Span);
            }

            if (!_deprecateEof)
            {
                packet = await _channel.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
                if (!ResponseParser.IsEof(packet.Span))
                {
                    throw ResponseParser.Unexpected(packet.Span, "after the column definitions (EOF expected)", Endpoint);
                }
            }

            _rowsEnded = false;
            return new MySqlRowReader(this, columns);
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }

    /// <summary>The next row packet of the open result, or null at its terminator.</summary>
    internal async ValueTask<ReadOnlyMemory<byte>?> ReadRowPacketAsync(CancellationToken cancellationToken)
    {
        try
        {
            ReadOnlyMemory<byte> packet = await _channel.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            if (TextResultParser.TryParseTerminator(packet.Span, _deprecateEof, out ServerStatusFlags status))
            {
                _rowsStatus = status;
                _rowsEnded = true;
                return null;
            }

            return packet;
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }

    /// <summary>
    /// The next row packet when it is already received whole (no wait): true with the row, or true with
    /// <paramref name="ended"/> at the result's terminator; false when it has not arrived yet.
    /// </summary>
    internal bool TryReadBufferedRowPacket(out ReadOnlyMemory<byte> packet, out bool ended)
    {
        ended = false;
        try
        {
            if (!_channel.TryReadBufferedPacket(out packet)) return false;
            if (TextResultParser.TryParseTerminator(packet.Span, _deprecateEof, out ServerStatusFlags status))
            {
                _rowsStatus = status;
                _rowsEnded = true;
                ended = true;
            }

            return true;
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }

    /// <summary>After the rows: reads and discards further result sets, then frees the connection.</summary>
    internal async ValueTask EndRowsAsync()
    {
        try
        {
            if (!_rowsEnded)
            {
                throw new InvalidOperationException("The rows of the result have not all been read.");
            }

            while ((_rowsStatus & ServerStatusFlags.MoreResultsExist) != 0)
            {
                ResultInfo result = await ReadResultAsync(keepRows: false, CancellationToken.None).ConfigureAwait(false);
                _rowsStatus = result.Status;
            }

            _state = State.Ready;
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }

    /// <summary>Marks the connection broken after a failure outside its own methods (a malformed row); never catches.</summary>
    internal bool Fail(Exception exception) => OnFailure(exception);
}
