using System.Runtime.CompilerServices;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Gtid;
using PluginHost.Binlog.Protocol;

namespace PluginHost.Binlog.Replication;

/// <summary>
/// Streams binlog events from a live MySQL or MariaDB server as a replica: checks the server, negotiates
/// checksums and heartbeats, starts from a file position or GTID, decodes every event, and on a dropped connection
/// reconnects from the last complete transaction without handing out any event twice.
/// </summary>
public sealed partial class BinlogClient : IAsyncDisposable
{
    private readonly BinlogClientOptions _options;
    private MySqlProtocolConnection? _connection;
    private InformationSchemaProvider? _schema;
    private BinlogEventDecoder? _decoder;
    private TransactionTracker? _tracker;
    private (string File, long Position)? _lastDelivered;
    private bool _connectedOnce;

    public BinlogClient(BinlogClientOptions options)
    {
        _options = options;
    }

    /// <summary>What the client learned about the server at the last connect.</summary>
    public ServerSettings? Server { get; private set; }

    /// <summary>Position (and GTID state) just after the last complete transaction handed out: the resume point.</summary>
    public BinlogPosition? Committed => _tracker?.Committed;

    /// <summary>The binlog file events are currently read from.</summary>
    public string? CurrentFile => _tracker?.File;

    /// <summary>GTID of the transaction being streamed, if any.</summary>
    public string? CurrentGtid => _tracker?.CurrentGtid;

    /// <summary>Number of times the client reconnected (successfully) after a connection loss.</summary>
    public int Reconnects { get; private set; }

    /// <summary>Queries this client ran against information_schema (each described table once until a schema change).</summary>
    internal int InformationSchemaQueries => _schema?.Queries ?? 0;

    /// <summary>Bytes of binlog events received.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>
    /// Streams events until cancelled. <paramref name="resumeFrom"/> (a checkpoint) wins over the configured start; once this
    /// client has streamed, a later call continues from where it is (<see cref="Committed"/>) and ignores it.
    /// Connection losses are retried with backoff and the stream goes on without repeating or losing an event;
    /// configuration and server errors end the stream with a clear exception. So does a failure of the very first
    /// connection (nothing listening, wrong credentials, server down): this client never streamed, so there is
    /// nothing to recover and the caller learns of the mistake at once instead of through an endless retry loop.
    /// </summary>
    public async IAsyncEnumerable<BinlogEvent> ReadAsync(BinlogPosition? resumeFrom = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var attempt = 0;
        var delay = _options.ReconnectDelay;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (ev, error) = await NextAsync(resumeFrom, cancellationToken).ConfigureAwait(false);
            if (error is null)
            {
                attempt = 0;
                delay = _options.ReconnectDelay;
                yield return ev!;
                continue;
            }
            var wasStreaming = _connection != null;
            await DropConnectionAsync().ConfigureAwait(false);
            // A failure before the first stream ever started is usually a configuration problem (wrong host or port,
            // bad start): report it at once unless asked to ride out a server that is down. Later losses are retried.
            if (!_options.Reconnect || !(_connectedOnce || _options.RetryInitialConnect) || !IsTransient(error) || cancellationToken.IsCancellationRequested)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            attempt++;
            if (_options.MaxReconnectAttempts > 0 && attempt > _options.MaxReconnectAttempts)
                throw new BinlogReplicationException($"Gave up after {attempt - 1} reconnect attempts to {_options.Connection.Endpoint}: {error.Message}", error);
            _options.OnConnectionLost?.Invoke(error);
            _options.Log?.Invoke(wasStreaming
                ? $"binlog connection to {_options.Connection.Endpoint} lost ({error.Message}); reconnecting in {delay.TotalMilliseconds:F0} ms from {Committed}"
                : $"reconnecting to {_options.Connection.Endpoint} failed ({error.Message}); retrying in {delay.TotalMilliseconds:F0} ms");
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    private async Task<(BinlogEvent?, Exception?)> NextAsync(BinlogPosition? resume, CancellationToken ct)
    {
        try
        {
            if (_connection is null)
            {
                await ConnectAsync(resume, ct).ConfigureAwait(false);
            }
            while (true)
            {
                var raw = await _connection!.ReadBinlogEventAsync(ct).ConfigureAwait(false)
                          // The dump is blocking: the server only ends it when it goes away (shutdown, KILL).
                          ?? throw new MySqlConnectionException($"The server {_options.Connection.Endpoint} ended the binlog stream.");
                BytesReceived += raw.Length;
                var ev = _decoder!.Decode(raw.Span);
                if (ev is TableMapEvent map && _options.UseInformationSchema) await DescribeAsync(map, ct).ConfigureAwait(false);
                else if (ev is QueryEvent { IsSchemaChange: true }) _schema?.Invalidate();

                _tracker!.Observe(ev);
                await FollowSchemaAsync(ev, ct).ConfigureAwait(false);
                var next = ev.Header.NextPosition;
                if (next != 0 && _lastDelivered is { } last && ev is not (RotateEvent or FormatDescriptionEvent or HeartbeatEvent))
                {
                    var c = string.CompareOrdinal(_tracker.File, last.File);
                    if (c < 0 || c == 0 && next <= last.Position) continue; // already handed out before the reconnect
                }
                if (next != 0 && ev is not (HeartbeatEvent or RotateEvent or FormatDescriptionEvent)) _lastDelivered = (_tracker.File, next);
                return (ev, null);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return (null, e);
        }
    }

    /// <summary>
    /// Completes a table map from information_schema (cached per table, dropped after DDL): names, signedness, charsets
    /// and labels when the map carries none; and on MariaDB, which text columns are JSON (no table map says), for any
    /// map with a BLOB/TEXT column in a character set — one extra query per table, not per row.
    /// </summary>
    private async Task DescribeAsync(TableMapEvent map, CancellationToken ct)
    {
        if (DescribeFromHistory(map)) return;
        if (map.NeedsSchema)
        {
            _schema ??= new InformationSchemaProvider(_options.Connection with { Database = null });
            var schema = await _schema.GetAsync(map.Database, map.Table, ct).ConfigureAwait(false);
            if (schema != null && schema.Columns.Count == map.Columns.Count) map.ApplySchema(schema);
            else if (schema != null)
                _options.Log?.Invoke($"{map.FullName}: table map has {map.Columns.Count} columns, information_schema {schema.Columns.Count}; using positional names");
            else
                _options.Log?.Invoke($"{map.FullName}: not visible in information_schema (dropped since, or {_options.Connection.User} lacks SELECT on it); using positional names");
        }
        if (Server?.Flavor == ServerFlavor.MariaDb && map.MayHaveJsonText)
        {
            _schema ??= new InformationSchemaProvider(_options.Connection with { Database = null });
            map.ApplyJsonColumns(await _schema.GetJsonColumnsAsync(map.Database, map.Table, ct).ConfigureAwait(false));
        }
    }

    private static bool IsTransient(Exception e) => e switch
    {
        MySqlAuthenticationException => false,
        BinlogNotAvailableException => false,
        BinlogReplicationException => false,
        BinlogFormatException => false,
        MySqlConnectionException => true,
        MySqlServerException s => s.ErrorCode is 1040 or 1053 or 1205 or 1213 or 1927 or 2013 or 1159 or 1161,
        MySqlProtocolException => true,
        IOException => true,
        System.Net.Sockets.SocketException => true,
        OperationCanceledException => true, // a read timeout surfaced as cancellation
        TimeoutException => true,
        _ => false,
    };

    private async Task ConnectAsync(BinlogPosition? resume, CancellationToken ct)
    {
        var connection = await MySqlProtocolConnection.OpenAsync(_options.Connection, ct).ConfigureAwait(false);
        try
        {
            var settings = await ServerChecks.CheckAsync(connection, ct).ConfigureAwait(false);
            Server = settings;
            _options.SchemaHistory?.OnServerChecked(settings);
            // After a loss: from the last complete transaction (events already handed out are skipped, not repeated).
            var start = _tracker?.Committed ?? resume ?? await ResolveStartAsync(connection, settings, ct).ConfigureAwait(false);
            if (settings.Flavor == ServerFlavor.MariaDb && start.Gtid is null && start.File.Length > 0)
                start = start with { Gtid = await ServerChecks.MariaDbGtidAtAsync(connection, start.File, start.Position, ct).ConfigureAwait(false) };

            if (settings.Checksum == ChecksumAlgorithm.Crc32)
                await connection.ExecuteAsync("SET @master_binlog_checksum = @@global.binlog_checksum", ct).ConfigureAwait(false);
            if (_options.HeartbeatInterval > TimeSpan.Zero)
            {
                var ns = (long)(_options.HeartbeatInterval.TotalMilliseconds * 1_000_000);
                await connection.ExecuteAsync($"SET @master_heartbeat_period = {ns}", ct).ConfigureAwait(false);
            }
            if (settings.Flavor == ServerFlavor.MariaDb)
                await connection.ExecuteAsync("SET @mariadb_slave_capability = 4", ct).ConfigureAwait(false);
            try
            {
                await connection.RegisterReplicaAsync(_options.ServerId, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (MySqlServerException e) when (e.ErrorCode is 1227 or 1045)
            {
                throw new BinlogReplicationException(
                    $"Registering as a replica was refused for {_options.Connection.User} on {_options.Connection.Endpoint}: grant REPLICATION SLAVE ON *.*.", e);
            }

            await RecordBaselineAsync(start, settings, ct).ConfigureAwait(false);
            _decoder = new BinlogEventDecoder(settings.Checksum, _options.VerifyChecksums);
            if (_tracker is null) _tracker = new TransactionTracker(start, settings.Flavor);
            else _tracker.Restart(); // the server resends the interrupted transaction from its start

            var flags = settings.Flavor == ServerFlavor.MariaDb ? BinlogDumpFlags.SendAnnotateRowsEvent : BinlogDumpFlags.None;
            try
            {
                if (start.File.Length > 0)
                    await connection.StartBinlogDumpAsync(start.File, checked((uint)start.Position), _options.ServerId, flags, ct).ConfigureAwait(false);
                else if (settings.Flavor == ServerFlavor.MariaDb)
                    await connection.StartMariaDbGtidBinlogDumpAsync(start.Gtid ?? "", _options.ServerId, flags, ct).ConfigureAwait(false);
                else
                {
                    var set = MySqlGtidSet.Parse(start.Gtid ?? "");
                    await connection.StartBinlogDumpGtidAsync(set.Encode(), _options.ServerId, BinlogDumpGtidFlags.None, "", 4, set.ToString(), ct).ConfigureAwait(false);
                }
            }
            catch (MySqlServerException e) when (e.ErrorCode is 1227 or 1045)
            {
                throw new BinlogReplicationException(
                    $"Reading the binlog was refused for {_options.Connection.User} on {_options.Connection.Endpoint}: grant REPLICATION SLAVE ON *.*.", e);
            }
            // While streaming, a silent server is a dead one after three missed heartbeats; without heartbeats an idle
            // stream is normal and must not time out.
            connection.ReadTimeout = _options.HeartbeatInterval > TimeSpan.Zero
                ? _options.HeartbeatInterval * 3 + TimeSpan.FromSeconds(1)
                : Timeout.InfiniteTimeSpan;
            _options.Log?.Invoke($"streaming binlog from {_options.Connection.Endpoint} ({settings.Version}) at {start}");
            _connection = connection;
            if (_connectedOnce) Reconnects++;
            _connectedOnce = true;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<BinlogPosition> ResolveStartAsync(MySqlProtocolConnection c, ServerSettings settings, CancellationToken ct)
    {
        switch (_options.Start)
        {
            case BinlogStart.FileStart f:
                return new BinlogPosition(f.File, f.Position);
            case BinlogStart.EarliestStart:
                return new BinlogPosition(await ServerChecks.OldestFileAsync(c, ct).ConfigureAwait(false), 4);
            case BinlogStart.GtidStart g:
                // Normalise (and validate) the GTID text; the server finds where it continues.
                return new BinlogPosition("", 0, settings.Flavor == ServerFlavor.MariaDb
                    ? MariaDbGtidList.Parse(g.Gtid).ToString()
                    : MySqlGtidSet.Parse(g.Gtid).ToString());
            default:
            {
                var (file, pos) = await ServerChecks.CurrentPositionAsync(c, ct).ConfigureAwait(false);
                return new BinlogPosition(file, pos);
            }
        }
    }

    private async Task DropConnectionAsync()
    {
        if (_connection != null)
        {
            try { await _connection.DisposeAsync().ConfigureAwait(false); } catch (Exception) { }
            _connection = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection != null) await _connection.DisposeAsync().ConfigureAwait(false);
        _connection = null;
        if (_schema != null) await _schema.DisposeAsync().ConfigureAwait(false);
    }
}
