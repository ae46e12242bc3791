using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using PluginHost.Binlog.Protocol.Authentication;
using PluginHost.Binlog.Protocol.Commands;
using PluginHost.Binlog.Protocol.Framing;
using PluginHost.Binlog.Protocol.Transport;

namespace PluginHost.Binlog.Protocol;

/// <summary>
/// One client connection to a MySQL or MariaDB server speaking the classic client/server protocol:
/// TCP + optional TLS, authentication, text-protocol queries and the replication commands
/// (COM_REGISTER_SLAVE, COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID) with raw binlog event reading.
/// </summary>
/// <remarks>
/// <para>Not thread-safe: issue one operation at a time.</para>
/// <para>
/// After a <see cref="MySqlServerException"/> (an ERR packet) the connection remains usable. After any
/// other failure — network error, timeout, protocol error, or cancellation of an operation in progress —
/// it is broken and must be disposed; open a new one.
/// </para>
/// <para>
/// Once a binlog dump has been started the connection only serves <see cref="ReadBinlogEventAsync"/>. When
/// the stream ends (EOF of a non-blocking dump, or an error such as <see cref="BinlogNotAvailableException"/>)
/// the server closes the connection, so it must then be disposed.
/// </para>
/// </remarks>
public sealed class MySqlProtocolConnection : IAsyncDisposable
{
    private const byte BinlogEventMarker = 0x00;
    private static readonly TimeSpan QuitTimeout = TimeSpan.FromSeconds(1);

    private readonly PacketChannel _channel;
    private readonly bool _deprecateEof;
    private State _state = State.Ready;
    private string _binlogStart = "";

    private MySqlProtocolConnection(ConnectionOptions options, PacketChannel channel, ServerHandshake server, CapabilityFlags capabilities, bool isTlsEnabled, string authenticationPlugin)
    {
        Options = options;
        _channel = channel;
        Server = server;
        Capabilities = capabilities;
        IsTlsEnabled = isTlsEnabled;
        AuthenticationPlugin = authenticationPlugin;
        _deprecateEof = (capabilities & CapabilityFlags.DeprecateEof) != 0;
    }

    private enum State
    {
        Ready,
        Busy,
        Streaming,
        DumpEnded,
        Broken,
        Closed,
    }

    /// <summary>The options the connection was opened with.</summary>
    public ConnectionOptions Options { get; }

    /// <summary>The server as "host:port".</summary>
    public string Endpoint => _channel.Endpoint;

    /// <summary>The server's handshake: version, connection id, capabilities, MariaDB detection.</summary>
    public ServerHandshake Server { get; }

    /// <summary>True when the server is MariaDB.</summary>
    public bool IsMariaDb => Server.IsMariaDb;

    /// <summary>The capabilities negotiated with the server.</summary>
    public CapabilityFlags Capabilities { get; }

    /// <summary>True when the connection is encrypted with TLS.</summary>
    public bool IsTlsEnabled { get; }

    /// <summary>The authentication plugin that completed the login, e.g. "client_ed25519".</summary>
    public string AuthenticationPlugin { get; }

    /// <summary>True while a binlog dump is in progress (only <see cref="ReadBinlogEventAsync"/> may be used).</summary>
    public bool IsStreamingBinlog => _state == State.Streaming;

    /// <summary>
    /// True when the connection can still be used: not broken by an I/O, protocol or timeout error, not at the
    /// end of a binlog dump (the server closes the connection then), and not disposed.
    /// </summary>
    public bool IsUsable => _state is State.Ready or State.Busy or State.Streaming;

    /// <summary>
    /// How long a read may wait for data before the connection is declared dead with a
    /// <see cref="MySqlConnectionException"/> whose <see cref="MySqlConnectionException.IsTimeout"/> is true;
    /// <see cref="Timeout.InfiniteTimeSpan"/> disables it. While streaming the binlog set it above the
    /// heartbeat period requested with <c>SET @master_heartbeat_period</c> (e.g. 2-3 times it).
    /// </summary>
    public TimeSpan ReadTimeout
    {
        get => _channel.ReadTimeout;
        set => _channel.ReadTimeout = value;
    }

    /// <summary>
    /// Connects, negotiates TLS according to <see cref="ConnectionOptions.SslMode"/> and authenticates.
    /// </summary>
    /// <param name="options">Connection settings.</param>
    /// <param name="cancellationToken">Cancellation; <see cref="ConnectionOptions.ConnectTimeout"/> applies as well.</param>
    /// <returns>The open connection.</returns>
    /// <exception cref="MySqlConnectionException">DNS failure, refused connection, timeout, TLS failure.</exception>
    /// <exception cref="MySqlAuthenticationException">The credentials were refused or the authentication method is unsupported.</exception>
    /// <exception cref="MySqlServerException">Another server error during login, e.g. 1049 unknown database.</exception>
    public static async Task<MySqlProtocolConnection> OpenAsync(ConnectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        string endpoint = options.Endpoint;
        string? publicKeyPem = ReadServerPublicKey(options);

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.ConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            timeoutSource.CancelAfter(options.ConnectTimeout);
        }

        CancellationToken token = timeoutSource.Token;
        string phase = "connecting";
        PacketChannel? channel = null;
        try
        {
            Socket socket = await SocketConnector.ConnectAsync(options.Host, options.Port, endpoint, token).ConfigureAwait(false);
            channel = new PacketChannel(new NetworkStream(socket, ownsSocket: true), endpoint);

            phase = "waiting for the server handshake";
            ReadOnlyMemory<byte> packet = await channel.ReadPacketAsync(token).ConfigureAwait(false);
            ServerHandshake handshake = ParseHandshake(packet.Span, endpoint);
            bool useTls = DecideTls(options, handshake);
            CapabilityFlags capabilities = NegotiateCapabilities(options, handshake, useTls);

            if (useTls)
            {
                phase = "negotiating TLS";
                PacketWriter writer = channel.BeginPacket();
                HandshakeResponseWriter.WriteSslRequest(writer, capabilities);
                await channel.WritePacketAsync(writer, token).ConfigureAwait(false);
                SslStream ssl = await TlsNegotiator.AuthenticateAsync(channel.Stream, options, token).ConfigureAwait(false);
                channel.ReplaceStream(ssl);
            }

            phase = "authenticating";
            string plugin = await Authenticator.AuthenticateAsync(channel, handshake, capabilities, options, publicKeyPem, useTls, token).ConfigureAwait(false);
            channel.ReadTimeout = options.ReadTimeout;
            return new MySqlProtocolConnection(options, channel, handshake, capabilities, useTls, plugin);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            channel?.Dispose();
            throw new MySqlConnectionException(
                $"Timed out after {options.ConnectTimeout.TotalSeconds:0.###} s {phase} ({endpoint}); check the host, the port, firewalls, and that the server is responsive.",
                ex,
                isTimeout: true);
        }
        catch
        {
            channel?.Dispose();
            throw;
        }
    }

    /// <summary>Runs a statement with the text protocol and returns its first result set.</summary>
    /// <param name="sql">The statement, e.g. "SHOW MASTER STATUS".</param>
    /// <param name="cancellationToken">Cancellation (breaks the connection if it interrupts the exchange).</param>
    /// <returns>Column names and rows; empty when the statement returned only an OK packet. Further result sets are read and discarded.</returns>
    /// <exception cref="MySqlServerException">The server reported an error.</exception>
    public async Task<QueryResult> QueryAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        BeginCommand();
        try
        {
            await SendCommandAsync(CommandCode.Query, sql, cancellationToken).ConfigureAwait(false);
            QueryResult? first = null;
            ResultInfo result;
            do
            {
                result = await ReadResultAsync(keepRows: first is null, cancellationToken).ConfigureAwait(false);
                first ??= result.Rows ?? QueryResult.Empty;
            }
            while ((result.Status & ServerStatusFlags.MoreResultsExist) != 0);

            _state = State.Ready;
            return first;
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }

    /// <summary>Runs a statement that returns no rows (SET, INSERT, ...) and returns its OK packet.</summary>
    /// <param name="sql">The statement, e.g. "SET @master_binlog_checksum = 'NONE'".</param>
    /// <param name="cancellationToken">Cancellation (breaks the connection if it interrupts the exchange).</param>
    /// <returns>The OK packet content; if the statement produced result sets they are discarded.</returns>
    /// <exception cref="MySqlServerException">The server reported an error.</exception>
    public async Task<ExecuteResult> ExecuteAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        BeginCommand();
        try
        {
            await SendCommandAsync(CommandCode.Query, sql, cancellationToken).ConfigureAwait(false);
            ExecuteResult? ok = null;
            ResultInfo result;
            do
            {
                result = await ReadResultAsync(keepRows: false, cancellationToken).ConfigureAwait(false);
                ok ??= result.Ok;
            }
            while ((result.Status & ServerStatusFlags.MoreResultsExist) != 0);

            _state = State.Ready;
            return ok ?? new ExecuteResult(0, 0, result.Status, 0, "");
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }

    /// <summary>Sends COM_PING and waits for the OK.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        BeginCommand();
        try
        {
            await SendCommandAsync(CommandCode.Ping, null, cancellationToken).ConfigureAwait(false);
            await ReadOkAsync("to COM_PING", cancellationToken).ConfigureAwait(false);
            _state = State.Ready;
        }
        catch (Exception ex) when (OnFailure(ex))
        {
            throw;
        }
    }

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

    /// <summary>Sends COM_QUIT (when the connection is idle) and closes the connection.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    public async Task QuitAsync(CancellationToken cancellationToken = default)
    {
        if (_state == State.Ready)
        {
            try
            {
                await SendCommandAsync(CommandCode.Quit, null, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Close();
            }
        }
        else
        {
            Close();
        }
    }

    /// <summary>Closes the connection, sending COM_QUIT first when it is idle (errors ignored), and returns the pooled buffers.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_state == State.Closed)
        {
            return;
        }

        if (_state == State.Ready)
        {
            try
            {
                using var timeout = new CancellationTokenSource(QuitTimeout);
                await SendCommandAsync(CommandCode.Quit, null, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Best effort: the socket is closed right after anyway.
            }
        }

        Close();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Options.User}@{Endpoint} ({Server.ServerVersion}, {_state})";

    private static void Validate(ConnectionOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            throw new ArgumentException("ConnectionOptions.Host must be set.", nameof(options));
        }

        if (options.Port is <= 0 or > 65535)
        {
            throw new ArgumentException($"ConnectionOptions.Port {options.Port} is not a valid TCP port.", nameof(options));
        }

        ArgumentNullException.ThrowIfNull(options.User, "options.User");
        ArgumentNullException.ThrowIfNull(options.Password, "options.Password");
        if (options.ConnectTimeout != Timeout.InfiniteTimeSpan && options.ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("ConnectionOptions.ConnectTimeout must be positive or Timeout.InfiniteTimeSpan.", nameof(options));
        }

        if (options.ReadTimeout != Timeout.InfiniteTimeSpan && options.ReadTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("ConnectionOptions.ReadTimeout must be positive or Timeout.InfiniteTimeSpan.", nameof(options));
        }
    }

    private static string? ReadServerPublicKey(ConnectionOptions options)
    {
        if (options.ServerRsaPublicKeyFile is null)
        {
            return null;
        }

        try
        {
            return File.ReadAllText(options.ServerRsaPublicKeyFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new MySqlAuthenticationException(
                $"Could not read the server RSA public key file '{options.ServerRsaPublicKeyFile}' for {options.User}@{options.Endpoint}: {ex.Message}",
                options.User,
                options.Endpoint,
                CachingSha2PasswordPlugin.PluginName);
        }
    }

    private static ServerHandshake ParseHandshake(ReadOnlySpan<byte> payload, string endpoint)
    {
        if (ResponseParser.IsError(payload))
        {
            MySqlServerException error = ResponseParser.ParseError(payload);
            throw new MySqlServerException(
                error.ErrorCode,
                error.SqlState,
                error.ServerMessage,
                $"The server {endpoint} refused the connection before authentication: error {error.ErrorCode}: {error.ServerMessage}");
        }

        try
        {
            return ServerHandshake.Parse(payload);
        }
        catch (MySqlProtocolException ex)
        {
            throw new MySqlProtocolException($"Invalid handshake from {endpoint} (is this a MySQL/MariaDB server?): {ex.Message}", ex);
        }
    }

    private static bool DecideTls(ConnectionOptions options, ServerHandshake handshake)
    {
        if (options.SslMode == SslMode.None)
        {
            return false;
        }

        if ((handshake.Capabilities & CapabilityFlags.Ssl) != 0)
        {
            return true;
        }

        if (options.SslMode == SslMode.Preferred)
        {
            return false;
        }

        throw new MySqlConnectionException(
            $"SslMode={options.SslMode} requires TLS, but the server {options.Endpoint} ({handshake.ServerVersion}) does not support it " +
            "(no CLIENT_SSL capability: TLS is not configured on the server). Configure ssl_cert/ssl_key on the server, or use SslMode=Preferred or None.");
    }

    private static CapabilityFlags NegotiateCapabilities(ConnectionOptions options, ServerHandshake handshake, bool useTls)
    {
        CapabilityFlags required = CapabilityFlags.Protocol41 | CapabilityFlags.SecureConnection;
        if ((handshake.Capabilities & required) != required)
        {
            throw new MySqlProtocolException(
                $"The server {options.Endpoint} ({handshake.ServerVersion}) lacks CLIENT_PROTOCOL_41 / CLIENT_SECURE_CONNECTION; MySQL 4.1 or later is required.");
        }

        CapabilityFlags wanted = required
            | CapabilityFlags.LongPassword
            | CapabilityFlags.LongFlag
            | CapabilityFlags.Transactions
            | CapabilityFlags.MultiResults
            | CapabilityFlags.PluginAuth
            | CapabilityFlags.PluginAuthLengthEncodedClientData;
        if (!options.DisableDeprecateEof)
        {
            wanted |= CapabilityFlags.DeprecateEof;
        }

        if (!string.IsNullOrEmpty(options.Database))
        {
            wanted |= CapabilityFlags.ConnectWithDb;
        }

        CapabilityFlags capabilities = wanted & handshake.Capabilities;
        if (useTls)
        {
            capabilities |= CapabilityFlags.Ssl;
        }

        return capabilities;
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

    private ValueTask SendCommandAsync(CommandCode command, string? text, CancellationToken cancellationToken)
    {
        _channel.ResetSequence();
        PacketWriter writer = _channel.BeginPacket();
        writer.WriteByte((byte)command);
        if (text is not null)
        {
            writer.WriteString(text);
        }

        return _channel.WritePacketAsync(writer, cancellationToken);
    }

    private async Task<ExecuteResult> ReadOkAsync(string context, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> packet = await _channel.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
        return ParseOkOrThrow(packet.Span, context);
    }

    private ExecuteResult ParseOkOrThrow(ReadOnlySpan<byte> packet, string context)
    {
        if (ResponseParser.IsError(packet))
        {
            throw ResponseParser.ParseError(packet);
        }

        if (!ResponseParser.IsOk(packet))
        {
            throw ResponseParser.Unexpected(packet, context, Endpoint);
        }

        return ResponseParser.ParseOk(packet);
    }

    private async Task<ResultInfo> ReadResultAsync(bool keepRows, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> packet = await _channel.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
        int columnCount = ParseResultHeader(packet.Span, out ExecuteResult? ok);
        if (ok is not null)
        {
            return new ResultInfo(null, ok, ok.Status);
        }

        string[] names = new string[columnCount];
        for (int i = 0; i < columnCount; i++)
        {
            packet = await _channel.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            names[i] = TextResultParser.ParseColumnName(packet.Span);
        }

        if (!_deprecateEof)
        {
            packet = await _channel.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            if (!ResponseParser.IsEof(packet.Span))
            {
                throw ResponseParser.Unexpected(packet.Span, "after the column definitions (EOF expected)", Endpoint);
            }
        }

        var rows = new List<string?[]>();
        ServerStatusFlags status;
        while (true)
        {
            packet = await _channel.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            if (TextResultParser.TryParseTerminator(packet.Span, _deprecateEof, out status))
            {
                break;
            }

            string?[] row = TextResultParser.ParseRow(packet.Span, columnCount);
            if (keepRows)
            {
                rows.Add(row);
            }
        }

        return new ResultInfo(new QueryResult(names, rows), null, status);
    }

    private int ParseResultHeader(ReadOnlySpan<byte> packet, out ExecuteResult? ok)
    {
        ok = null;
        if (packet.IsEmpty)
        {
            throw ResponseParser.Unexpected(packet, "as a query response", Endpoint);
        }

        switch (packet[0])
        {
            case ResponseParser.OkHeader:
                ok = ParseOkOrThrow(packet, "as a query response");
                return 0;
            case ResponseParser.ErrorHeader:
                throw ResponseParser.ParseError(packet);
            case 0xFB:
                throw new MySqlProtocolException($"The server {Endpoint} requested LOAD DATA LOCAL INFILE, which this client does not support.");
        }

        var reader = new PacketReader(packet, PacketSource.Protocol);
        ulong count = reader.ReadLengthEncoded();
        if (count == 0 || count > 4096 || !reader.IsAtEnd)
        {
            throw ResponseParser.Unexpected(packet, "as a result set header", Endpoint);
        }

        return (int)count;
    }

    private void BeginCommand()
    {
        switch (_state)
        {
            case State.Ready:
                _state = State.Busy;
                return;
            case State.Busy:
                throw new InvalidOperationException($"Another operation is already in progress on the connection to {Endpoint}; the connection is not thread-safe.");
            case State.Streaming:
                throw new InvalidOperationException($"The connection to {Endpoint} is streaming the binary log; only ReadBinlogEventAsync can be used. Use another connection for queries.");
            case State.Broken:
                throw new InvalidOperationException($"The connection to {Endpoint} is broken by an earlier error; dispose it and open a new one.");
            case State.DumpEnded:
                throw new InvalidOperationException($"The binlog dump on the connection to {Endpoint} has ended and the server closes the connection after a dump; dispose it and open a new one.");
            default:
                throw new ObjectDisposedException(nameof(MySqlProtocolConnection), $"The connection to {Endpoint} is closed.");
        }
    }

    private InvalidOperationException NotStreaming() => _state switch
    {
        State.Closed => new ObjectDisposedException(nameof(MySqlProtocolConnection), $"The connection to {Endpoint} is closed."),
        State.Broken => new InvalidOperationException($"The connection to {Endpoint} is broken by an earlier error; dispose it and open a new one."),
        State.DumpEnded => new InvalidOperationException($"The binlog dump on the connection to {Endpoint} has already ended; dispose the connection and open a new one."),
        _ => new InvalidOperationException($"No binlog dump is in progress on the connection to {Endpoint}; call StartBinlogDumpAsync (or a GTID variant) first."),
    };

    /// <summary>Exception filter: records the connection state after a failure; never catches.</summary>
    private bool OnFailure(Exception exception)
    {
        if (_state == State.Closed)
        {
            return false;
        }

        if (_state == State.DumpEnded)
        {
            return false;
        }

        // An ERR packet completes the command cleanly; anything else leaves the stream in an unknown state.
        _state = exception is MySqlServerException ? State.Ready : State.Broken;
        return false;
    }

    private void Close()
    {
        _state = State.Closed;
        _channel.Dispose();
    }

    private readonly record struct ResultInfo(QueryResult? Rows, ExecuteResult? Ok, ServerStatusFlags Status);
}
