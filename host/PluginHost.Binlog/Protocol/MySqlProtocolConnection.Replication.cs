using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using PluginHost.Binlog.Protocol.Authentication;
using PluginHost.Binlog.Protocol.Commands;
using PluginHost.Binlog.Protocol.Framing;
using PluginHost.Binlog.Protocol.Transport;

namespace PluginHost.Binlog.Protocol;

/// <summary>Replication commands: registering as a replica, starting a binlog dump (file and position, MySQL GTID set, MariaDB GTID), reading its events.</summary>
public sealed partial class MySqlProtocolConnection
{
    /// <summary>
    /// Sends COM_REGISTER_SLAVE so that the server lists this client in SHOW SLAVE HOSTS / SHOW REPLICAS.
    /// </summary>
    /// <param name="serverId">This replica's server id (must be unique among the server's replicas).</param>
    /// <param name="reportHost">Host name to report (may be empty).</param>
    /// <param name="reportPort">Port to report (may be 0).</param>
    /// <param name="reportUser">User to report (normally empty).</param>
    /// <param name="reportPassword">Password to report (normally empty).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <exception cref="MySqlServerException">The server refused (e.g. missing REPLICATION SLAVE privilege).</exception>
    public async Task RegisterReplicaAsync(uint serverId, string reportHost = "", ushort reportPort = 0, string reportUser = "", string reportPassword = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reportHost);
        ArgumentNullException.ThrowIfNull(reportUser);
        ArgumentNullException.ThrowIfNull(reportPassword);
        BeginCommand();
        try
        {
            _channel.ResetSequence();
            PacketWriter writer = _channel.BeginPacket();
            ReplicationCommands.WriteRegisterSlave(writer, serverId, reportHost, reportUser, reportPassword, reportPort);
            await _channel.WritePacketAsync(writer, cancellationToken).ConfigureAwait(false);
            await ReadOkAsync("to COM_REGISTER_SLAVE", cancellationToken).ConfigureAwait(false);
            _state = State.Ready;
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }

    /// <summary>
    /// Sends COM_BINLOG_DUMP to stream the binary log from a file and position. Read the events with
    /// <see cref="ReadBinlogEventAsync"/>. For a MariaDB GTID start, set <c>@slave_connect_state</c> and the
    /// related variables first and pass an empty <paramref name="fileName"/> with position 4 (or use
    /// <see cref="StartMariaDbGtidBinlogDumpAsync"/>).
    /// </summary>
    /// <param name="fileName">Binlog file name, e.g. "mysql-bin.000001"; empty for a MariaDB GTID start.</param>
    /// <param name="position">Start position (4 = beginning of the file).</param>
    /// <param name="serverId">This replica's server id.</param>
    /// <param name="flags">Dump flags, e.g. <see cref="BinlogDumpFlags.SendAnnotateRowsEvent"/> for MariaDB.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public async Task StartBinlogDumpAsync(string fileName, uint position, uint serverId, BinlogDumpFlags flags = BinlogDumpFlags.None, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        await StartBinlogDumpCoreAsync(fileName, position, serverId, flags, $"binlog file '{fileName}' position {position}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends MySQL's COM_BINLOG_DUMP_GTID to stream the binary log starting after the transactions of a GTID set.
    /// Read the events with <see cref="ReadBinlogEventAsync"/>.
    /// </summary>
    /// <param name="encodedGtidSet">The GTID set in MySQL's binary encoding (number of SIDs, then per SID: 16-byte UUID, interval count, intervals).</param>
    /// <param name="serverId">This replica's server id.</param>
    /// <param name="flags">Dump flags; <see cref="BinlogDumpGtidFlags.ThroughGtid"/> is always added.</param>
    /// <param name="fileName">Optional binlog file name (normally empty).</param>
    /// <param name="position">Optional position (normally 4).</param>
    /// <param name="gtidSetText">Text form of the GTID set, used only in error messages.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public Task StartBinlogDumpGtidAsync(ReadOnlyMemory<byte> encodedGtidSet, uint serverId, BinlogDumpGtidFlags flags = BinlogDumpGtidFlags.None, string fileName = "", ulong position = 4, string? gtidSetText = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        return StartGtidDumpCoreAsync(encodedGtidSet, serverId, flags, fileName, position, gtidSetText, cancellationToken);
    }

    /// <summary>
    /// Starts a MariaDB GTID binlog dump: sets <c>@mariadb_slave_capability=4</c>,
    /// <c>@slave_connect_state</c>, <c>@slave_gtid_strict_mode=0</c> and <c>@slave_gtid_ignore_duplicates=0</c>,
    /// then sends COM_BINLOG_DUMP with an empty file name and position 4. Set <c>@master_binlog_checksum</c> and
    /// <c>@master_heartbeat_period</c> before calling this if needed.
    /// </summary>
    /// <param name="gtidPosition">The GTID position, e.g. "0-1-42" or "0-1-42,1-2-7"; empty to start at the oldest binlog.</param>
    /// <param name="serverId">This replica's server id.</param>
    /// <param name="flags">Dump flags, e.g. <see cref="BinlogDumpFlags.SendAnnotateRowsEvent"/>.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public async Task StartMariaDbGtidBinlogDumpAsync(string gtidPosition, uint serverId, BinlogDumpFlags flags = BinlogDumpFlags.None, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gtidPosition);
        foreach (char c in gtidPosition)
        {
            if (!char.IsAsciiDigit(c) && c is not '-' and not ',' and not ' ')
            {
                throw new ArgumentException($"'{gtidPosition}' is not a MariaDB GTID position (domain-server-sequence[,...]).", nameof(gtidPosition));
            }
        }

        await ExecuteAsync("SET @mariadb_slave_capability=4", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync($"SET @slave_connect_state='{gtidPosition}'", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync("SET @slave_gtid_strict_mode=0", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync("SET @slave_gtid_ignore_duplicates=0", cancellationToken).ConfigureAwait(false);
        await StartBinlogDumpCoreAsync("", 4, serverId, flags, $"GTID position '{gtidPosition}'", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the next binlog network packet after a dump was started.
    /// </summary>
    /// <param name="cancellationToken">Cancellation (breaks the connection if it interrupts a read).</param>
    /// <returns>
    /// The raw event (19-byte v4 header + body, plus the checksum if enabled), without the leading 0x00 status
    /// byte; or null when the server ended the stream with an EOF packet (non-blocking dump). The memory is
    /// owned by the connection and is only valid until the next call on this connection: decode or copy it first.
    /// Once the stream has ended (null or an exception) the server closes the connection: dispose it.
    /// </returns>
    /// <exception cref="BinlogNotAvailableException">The requested start is not available on the server (error 1236).</exception>
    /// <exception cref="MySqlServerException">Another server error ended the stream.</exception>
    /// <exception cref="MySqlConnectionException">Network failure or read timeout (dead connection).</exception>
    public ValueTask<ReadOnlyMemory<byte>?> ReadBinlogEventAsync(CancellationToken cancellationToken = default)
    {
        if (_state != State.Streaming)
        {
            throw NotStreaming();
        }

        ValueTask<ReadOnlyMemory<byte>> pending;
        try
        {
            pending = _channel.ReadPacketAsync(cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                ReadOnlyMemory<byte> packet = pending.Result;
                if (packet.Length > 0 && packet.Span[0] == BinlogEventMarker)
                {
                    return new ValueTask<ReadOnlyMemory<byte>?>(packet.Slice(1));
                }

                return new ValueTask<ReadOnlyMemory<byte>?>(HandleBinlogControlPacket(packet.Span));
            }
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }

        return AwaitBinlogEventAsync(pending);
    }


    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadOnlyMemory<byte>?> AwaitBinlogEventAsync(ValueTask<ReadOnlyMemory<byte>> pending)
    {
        try
        {
            ReadOnlyMemory<byte> packet = await pending.ConfigureAwait(false);
            if (packet.Length > 0 && packet.Span[0] == BinlogEventMarker)
            {
                return packet.Slice(1);
            }

            return HandleBinlogControlPacket(packet.Span);
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }

    private ReadOnlyMemory<byte>? HandleBinlogControlPacket(ReadOnlySpan<byte> packet)
    {
        if (ResponseParser.IsEof(packet))
        {
            _state = State.DumpEnded;
            return null;
        }

        if (ResponseParser.IsError(packet))
        {
            _state = State.DumpEnded;
            MySqlServerException error = ResponseParser.ParseError(packet);
            if (error.ErrorCode == BinlogNotAvailableException.ErrorNumber)
            {
                throw new BinlogNotAvailableException(error.ErrorCode, error.SqlState, error.ServerMessage, _binlogStart, Endpoint);
            }

            throw error;
        }

        throw ResponseParser.Unexpected(packet, "in the binlog stream", Endpoint);
    }

    private async Task StartBinlogDumpCoreAsync(string fileName, uint position, uint serverId, BinlogDumpFlags flags, string description, CancellationToken cancellationToken)
    {
        BeginCommand();
        try
        {
            _channel.ResetSequence();
            PacketWriter writer = _channel.BeginPacket();
            ReplicationCommands.WriteBinlogDump(writer, fileName, position, flags, serverId);
            _binlogStart = description;
            await _channel.WritePacketAsync(writer, cancellationToken).ConfigureAwait(false);
            _state = State.Streaming;
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }

    private async Task StartGtidDumpCoreAsync(ReadOnlyMemory<byte> encodedGtidSet, uint serverId, BinlogDumpGtidFlags flags, string fileName, ulong position, string? gtidSetText, CancellationToken cancellationToken)
    {
        BeginCommand();
        try
        {
            _channel.ResetSequence();
            PacketWriter writer = _channel.BeginPacket();
            ReplicationCommands.WriteBinlogDumpGtid(writer, encodedGtidSet.Span, serverId, flags, fileName, position);
            _binlogStart = gtidSetText is null
                ? $"GTID set ({encodedGtidSet.Length} encoded bytes)"
                : $"GTID set '{gtidSetText}'";
            await _channel.WritePacketAsync(writer, cancellationToken).ConfigureAwait(false);
            _state = State.Streaming;
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }
}
