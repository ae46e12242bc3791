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
public sealed partial class MySqlProtocolConnection : IAsyncDisposable
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
